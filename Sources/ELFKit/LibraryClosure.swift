import Foundation

/// Everything an executable loads at run time beyond glibc, found the way the dynamic loader finds it on the
/// build host: each object's runpath (with `$ORIGIN`), then the directories of `/etc/ld.so.conf`, then the
/// default directories.
///
/// glibc itself (libc, libm, the loader...) is left to the target system: it must match the target's kernel
/// interface and loader, and every Linux system has one. `requiredGlibc` says which version the closure
/// needs of it.
public struct LibraryClosure: Sendable {
    /// A library of the closure.
    public struct Library: Sendable, Equatable {
        /// The name objects ask for (`DT_NEEDED`), which is the name to install it under.
        public var name: String
        /// The file found (symbolic links resolved).
        public var path: String
        /// The first object that needed it.
        public var neededBy: String
        public var bytes: Int64
    }

    /// The libraries glibc provides; never bundled.
    public static let glibcLibraries: Set<String> = [
        "ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
        "libutil.so.1", "libresolv.so.2", "libanl.so.1", "libmvec.so.1", "libBrokenLocale.so.1", "libnsl.so.1",
        "libc_malloc_debug.so.0", "libthread_db.so.1", "libmemusage.so", "libpcprofile.so",
    ]

    /// The executable, parsed.
    public let executable: ELFFile
    /// Its libraries beyond glibc, in the order they were found (breadth first).
    public let libraries: [Library]
    /// The highest `GLIBC_x.y` version any object of the closure asks for (`nil`: none).
    public let requiredGlibc: String?

    /// Walks the closure of `executable`.
    /// - Parameter searchDirectories: the loader's directories after the runpaths (default: this host's
    ///   `/etc/ld.so.conf` plus the standard ones).
    /// - Throws: `ELFError` for an object that cannot be parsed, a static executable, or a library that is not
    ///   found (naming who needs it).
    public init(executable path: String, searchDirectories: [String]? = nil) throws(ELFError) {
        let executable = try ELFFile(path: path)
        guard executable.kind == .executable || executable.interpreter != nil else {
            throw ELFError(path: path, problem: "is a shared library, not an executable")
        }
        self.executable = executable
        let directories = searchDirectories ?? Self.hostSearchDirectories()

        var libraries: [Library] = []
        var seen: Set<String> = []
        var versions: [[Int]] = []
        var queue: [ELFFile] = [executable]
        while !queue.isEmpty {
            let object = queue.removeFirst()
            for need in object.versionNeeds where Self.glibcLibraries.contains(need.library) {
                versions += need.versions.compactMap(Self.glibcVersion)
            }
            for name in object.needed where !Self.glibcLibraries.contains(name) && seen.insert(name).inserted {
                guard let found = Self.find(name, for: object, executable: executable, in: directories) else {
                    throw ELFError(path: object.path, problem: "needs \(name), which is not found in its runpath "
                        + "(\(object.searchPath.joined(separator: ":")))" + " or in \(directories.joined(separator: ", "))")
                }
                let library = try ELFFile(path: found)
                let size = (try? FileManager.default.attributesOfItem(atPath: found)[.size] as? Int64) ?? nil
                libraries.append(Library(name: name, path: found, neededBy: object.path, bytes: size ?? 0))
                queue.append(library)
            }
        }
        self.libraries = libraries
        requiredGlibc = versions.max { $0.lexicographicallyPrecedes($1) }
            .map { "GLIBC_" + $0.map(String.init).joined(separator: ".") }
    }

    /// `GLIBC_2.34` -> [2, 34]; `GLIBC_PRIVATE` and the like -> nil.
    public static func glibcVersion(_ name: String) -> [Int]? {
        guard name.hasPrefix("GLIBC_") else { return nil }
        let parts = name.dropFirst(6).split(separator: ".").map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.map { $0! }
    }

    /// Where the loader finds `name` for `object` once the executable's search path is an rpath (as the
    /// bundle installs it): the object's own search path, then the executable's (`$ORIGIN` = each one's real
    /// directory), then `directories`. Only a 64-bit x86-64 ELF counts (multilib directories hold others).
    static func find(_ name: String, for object: ELFFile, executable: ELFFile, in directories: [String]) -> String? {
        func expanded(_ file: ELFFile) -> [String] {
            let origin = URL(fileURLWithPath: file.path).resolvingSymlinksInPath().deletingLastPathComponent().path
            return file.searchPath.map {
                $0.replacingOccurrences(of: "${ORIGIN}", with: origin).replacingOccurrences(of: "$ORIGIN", with: origin)
            }
        }
        for directory in expanded(object) + expanded(executable) + directories {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: candidate) else { continue }
            let real = URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
            if (try? ELFFile(path: real)) != nil { return real }
        }
        return nil
    }

    /// The directories of `/etc/ld.so.conf` (with its `include` globs), then the standard ones.
    public static func hostSearchDirectories(config: String = "/etc/ld.so.conf") -> [String] {
        var result: [String] = []
        var visited: Set<String> = []
        func read(_ file: String) {
            guard visited.insert(file).inserted,
                  let text = try? String(contentsOfFile: file, encoding: .utf8) else { return }
            for raw in text.split(whereSeparator: \.isNewline) {
                let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                    .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                if line.isEmpty { continue }
                if line.hasPrefix("include") {
                    let pattern = line.dropFirst("include".count).trimmingCharacters(in: .whitespaces)
                    let absolute = pattern.hasPrefix("/") ? pattern
                        : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(pattern).path
                    for match in glob(absolute) { read(match) }
                } else if line.hasPrefix("/") {
                    result.append(line)
                }
            }
        }
        read(config)
        for standard in ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]
            where !result.contains(standard) {
            result.append(standard)
        }
        return result
    }

    /// Files matching a shell pattern whose wildcards are in the last component only (as ld.so.conf uses).
    private static func glob(_ pattern: String) -> [String] {
        let url = URL(fileURLWithPath: pattern)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return entries.filter { fnmatch(name, $0, 0) == 0 }.sorted().map { directory + "/" + $0 }
    }
}
