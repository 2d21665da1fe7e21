import Foundation
import PackageKit

/// What dpkg itself would record for a package it unpacked and configured, so `dpkg -l` and `dpkg -L` show the
/// injected packages: a paragraph in `var/lib/dpkg/status` with `Status: install ok installed`, and
/// `var/lib/dpkg/info/<name>.list` (plus `.md5sums` and `.conffiles` when the package has them).
///
/// A `Multi-Arch: same` package's files are named `<name>:<arch>.*`, as dpkg names them.
struct DpkgRegistration {
    static let statusPath = "var/lib/dpkg/status"
    static let infoDirectory = "var/lib/dpkg/info"

    let package: DebianPackage
    /// Payload paths as the package names them (absolute), in payload order, directories included.
    let payloadPaths: [String]

    /// `gawk` or, for `Multi-Arch: same`, `libc6:amd64`.
    var infoName: String {
        let multiArch = package.control["Multi-Arch"]?.trimmingCharacters(in: .whitespaces)
        return multiArch == "same" ? "\(package.metadata.name):\(package.metadata.architecture)" : package.metadata.name
    }

    /// The files to add under `var/lib/dpkg/info`, by path relative to the root.
    var infoFiles: [(path: String, bytes: [UInt8])] {
        let base = "\(Self.infoDirectory)/\(infoName)"
        // dpkg's list starts with the root directory itself.
        var files = [(base + ".list", Array((["/."] + payloadPaths).joined(separator: "\n").utf8) + [0x0A])]
        if let sums = package.controlFiles["md5sums"] { files.append((base + ".md5sums", sums)) }
        if let conffiles = package.controlFiles["conffiles"] { files.append((base + ".conffiles", conffiles)) }
        return files
    }

    /// The status paragraph: the control paragraph with `Status:` after `Package:`, and the conffiles with
    /// their md5 sums (from `md5sums`), as dpkg keeps them.
    var statusParagraph: String {
        var lines = package.control.text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let at = (lines.firstIndex { $0.hasPrefix("Package:") } ?? -1) + 1
        lines.insert("Status: install ok installed", at: at)
        let conffiles = package.conffiles
        if !conffiles.isEmpty {
            let sums = md5Sums
            lines.append("Conffiles:")
            lines += conffiles.map { " \($0) \(sums[String($0.drop { $0 == "/" })] ?? "newconffile")" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `md5sums` as path (relative) -> digest.
    private var md5Sums: [String: String] {
        guard let text = package.md5sums else { return [:] }
        var sums: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            sums[parts[1].trimmingCharacters(in: .whitespaces)] = String(parts[0])
        }
        return sums
    }

    /// `status` with `paragraphs` appended, separated by blank lines as dpkg writes them.
    static func status(_ status: [UInt8], appending paragraphs: [String]) -> [UInt8] {
        var text = String(decoding: status, as: UTF8.self)
        while text.hasSuffix("\n\n") { text.removeLast() }
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        for paragraph in paragraphs {
            if !text.isEmpty { text += "\n" }
            text += paragraph
        }
        return Array(text.utf8)
    }
}
