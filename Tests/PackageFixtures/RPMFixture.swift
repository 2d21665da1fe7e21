import Foundation

/// A spec for a small binary RPM, built with the real rpmbuild into a scratch directory.
public struct RPMFixture {
    public enum Payload: String, Sendable, CaseIterable {
        case gzip = "w9.gzdio", xz = "w6.xzdio", zstd = "w19.zstdio", bzip2 = "w9.bzdio", lzma = "w9.lzdio", none = "w.ufdio"
    }

    /// One file `%install` creates (its content plus a newline), with its `%files` line attributes.
    public struct File {
        public var path: String
        public var content: String
        public var attributes = "%attr(0644,root,root)"

        public init(path: String, content: String, attributes: String = "%attr(0644,root,root)") {
            self.path = path
            self.content = content
            self.attributes = attributes
        }
    }

    public var name: String
    public var epoch: Int?
    public var version = "1.0"
    public var release = "1"
    public var arch = "x86_64"
    public var requires: [String] = []
    public var provides: [String] = []
    public var files: [File] = []
    /// Symlinks as (path, target).
    public var symlinks: [(String, String)] = []
    /// Hard links as (path, existing file), listed in `%files` like the files.
    public var hardlinks: [(String, String)] = []
    public var payload: Payload = .gzip

    public init(name: String, epoch: Int? = nil, version: String = "1.0", release: String = "1", arch: String = "x86_64",
         requires: [String] = [], provides: [String] = [], files: [File]? = nil, symlinks: [(String, String)] = [],
         hardlinks: [(String, String)] = [], payload: Payload = .gzip) {
        self.name = name
        self.epoch = epoch
        self.version = version
        self.release = release
        self.arch = arch
        self.requires = requires
        self.provides = provides
        self.files = files ?? [File(path: "/usr/share/\(name)/README", content: "\(name) \(version)")]
        self.symlinks = symlinks
        self.hardlinks = hardlinks
        self.payload = payload
    }

    public var spec: String {
        var lines = [
            "Name: \(name)", "Version: \(version)", "Release: \(release)", "Summary: \(name) test package",
            "License: MIT", "BuildArch: \(arch)", "AutoReqProv: no",
        ]
        if let epoch { lines.append("Epoch: \(epoch)") }
        lines += requires.map { "Requires: \($0)" }
        lines += provides.map { "Provides: \($0)" }
        lines += ["", "%description", "\(name) test package", "", "%install"]
        for file in files {
            let directory = (file.path as NSString).deletingLastPathComponent
            lines.append("mkdir -p %{buildroot}\(directory)")
            lines.append("echo '\(file.content)' > %{buildroot}\(file.path)")
        }
        for (path, target) in symlinks {
            lines.append("mkdir -p %{buildroot}\((path as NSString).deletingLastPathComponent)")
            lines.append("ln -s \(target) %{buildroot}\(path)")
        }
        for (path, existing) in hardlinks {
            lines.append("ln %{buildroot}\(existing) %{buildroot}\(path)")
        }
        lines += ["", "%files"]
        lines += files.map { "\($0.attributes) \($0.path)" }
        lines += symlinks.map { $0.0 }
        lines += hardlinks.map { "%attr(0644,root,root) \($0.0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Builds the package under `scratch` and returns the .rpm's path.
    public func build(in scratch: Scratch) throws -> String {
        let top = try scratch.directory("rpmbuild-\(name)-\(UUID().uuidString.prefix(8))")
        let specPath = try scratch.write((top as NSString).lastPathComponent + "/\(name).spec", Array(spec.utf8))
        try runTool("/usr/bin/rpmbuild", [
            "-bb", "--nodeps", "--quiet",
            "--define", "_topdir \(top)",
            "--define", "_tmppath \(top)/tmp",
            "--define", "_binary_payload \(payload.rawValue)",
            "--define", "__os_install_post %{nil}",
            "--define", "debug_package %{nil}",
            specPath,
        ])
        let rpm = "\(top)/RPMS/\(arch)/\(name)-\(version)-\(release).\(arch).rpm"
        guard FileManager.default.fileExists(atPath: rpm) else {
            throw ToolFailure(command: "rpmbuild \(name)", output: "no \(rpm)")
        }
        return rpm
    }

    /// Builds the package straight into `directory` (a repository) and returns its path.
    @discardableResult
    public func build(in scratch: Scratch, into directory: String) throws -> String {
        let built = try build(in: scratch)
        let destination = directory + "/" + (built as NSString).lastPathComponent
        try FileManager.default.moveItem(atPath: built, toPath: destination)
        return destination
    }
}
