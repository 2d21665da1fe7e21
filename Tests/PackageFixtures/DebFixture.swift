import Foundation

/// A small binary .deb, built with the real dpkg-deb into a scratch directory.
public struct DebFixture {
    public enum Compression: String, Sendable, CaseIterable {
        case gzip, xz, zstd, none
    }

    public var name: String
    public var version = "1.0-1"
    public var architecture = "amd64"
    /// Extra control fields, in order (Depends, Pre-Depends, Provides ...).
    public var fields: [(String, String)] = []
    /// Regular files as (path, content, mode).
    public var files: [(String, String, Int)] = []
    public var symlinks: [(String, String)] = []
    /// Hard links as (path, existing file).
    public var hardlinks: [(String, String)] = []
    public var conffiles: [String] = []
    public var compression: Compression = .xz

    public init(name: String, version: String = "1.0-1", architecture: String = "amd64", fields: [(String, String)] = [],
         files: [(String, String, Int)]? = nil, symlinks: [(String, String)] = [],
         hardlinks: [(String, String)] = [], conffiles: [String] = [], compression: Compression = .xz) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.fields = fields
        self.files = files ?? [("/usr/share/doc/\(name)/README", "\(name) \(version)\n", 0o644)]
        self.symlinks = symlinks
        self.hardlinks = hardlinks
        self.conffiles = conffiles
        self.compression = compression
    }

    public var control: String {
        var lines = ["Package: \(name)", "Version: \(version)", "Architecture: \(architecture)",
                     "Maintainer: Tests <tests@example.org>"]
        lines += fields.map { "\($0.0): \($0.1)" }
        lines += ["Description: \(name) test package", " A package built by the PackageKit tests."]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Builds the package under `scratch` (into `directory` when given) and returns the .deb's path.
    @discardableResult
    public func build(in scratch: Scratch, into directory: String? = nil) throws -> String {
        let root = try scratch.directory("deb-\(name)-\(UUID().uuidString.prefix(8))")
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/DEBIAN", withIntermediateDirectories: true)
        try Data(control.utf8).write(to: URL(fileURLWithPath: root + "/DEBIAN/control"))
        var sums: [String] = []
        for (path, content, mode) in files {
            let full = root + path
            try manager.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: full))
            try manager.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
            let digest = try runTool("/usr/bin/md5sum", [full]).split(separator: " ").first.map(String.init) ?? ""
            sums.append("\(digest)  \(path.dropFirst())")
        }
        for (path, target) in symlinks {
            let full = root + path
            try manager.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try manager.createSymbolicLink(atPath: full, withDestinationPath: target)
        }
        for (path, existing) in hardlinks {
            try manager.linkItem(atPath: root + existing, toPath: root + path)
        }
        try Data((sums.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: root + "/DEBIAN/md5sums"))
        if !conffiles.isEmpty {
            try Data((conffiles.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: root + "/DEBIAN/conffiles"))
        }
        let output = (directory ?? scratch.url.path) + "/\(name)_\(version)_\(architecture).deb"
        try runTool("/usr/bin/dpkg-deb", ["--root-owner-group", "-Z\(compression.rawValue)", "--build", root, output])
        return output
    }
}
