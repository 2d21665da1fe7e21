import Foundation

/// A small binary .deb, built with the real dpkg-deb into a scratch directory.
struct DebFixture {
    enum Compression: String {
        case gzip, xz, zstd, none
    }

    var name: String
    var version = "1.0-1"
    var architecture = "amd64"
    /// Extra control fields, in order (Depends, Pre-Depends, Provides ...).
    var fields: [(String, String)] = []
    /// Regular files as (path, content, mode).
    var files: [(String, String, Int)] = []
    var symlinks: [(String, String)] = []
    /// Hard links as (path, existing file).
    var hardlinks: [(String, String)] = []
    var conffiles: [String] = []
    var compression: Compression = .xz

    init(name: String, version: String = "1.0-1", architecture: String = "amd64", fields: [(String, String)] = [],
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

    var control: String {
        var lines = ["Package: \(name)", "Version: \(version)", "Architecture: \(architecture)",
                     "Maintainer: Tests <tests@example.org>"]
        lines += fields.map { "\($0.0): \($0.1)" }
        lines += ["Description: \(name) test package", " A package built by the PackageKit tests."]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Builds the package under `scratch` (into `directory` when given) and returns the .deb's path.
    @discardableResult
    func build(in scratch: Scratch, into directory: String? = nil) throws -> String {
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
            let digest = try run("/usr/bin/md5sum", [full]).split(separator: " ").first.map(String.init) ?? ""
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
        try run("/usr/bin/dpkg-deb", ["--root-owner-group", "-Z\(compression.rawValue)", "--build", root, output])
        return output
    }
}
