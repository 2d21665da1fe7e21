import ELFKit
import Foundation

/// install-os as the builder injects it into the µOS: the executable with every shared library it needs beyond
/// glibc in a private directory, its search path rewritten to `$ORIGIN` (as an rpath, which also serves the
/// libraries' own dependencies) so it loads those and nothing of the host's paths, a command link, its systemd unit (enabled) and a version record.
///
/// The µOS may have none of the libraries (libarchive, libparted, the Swift runtime...) or other versions of
/// them: the private directory makes the installer independent of both. Only glibc is the µOS's own; the record
/// says which version the bundle needs.
public struct InstallerBundle: Sendable {
    /// The private directory in the µOS: the executable and its libraries.
    public static let directory = "/usr/lib/emts/install-os"
    public static let unitPath = "/usr/lib/systemd/system/" + MicroOSFacts.installerUnit

    /// What went into the µOS, for the manifest and `--dry-run`.
    public struct Record: Codable, Sendable, Equatable {
        public struct Library: Codable, Sendable, Equatable {
            public var name: String
            public var from: String
            public var bytes: Int64
        }

        /// The executable on the build host.
        public var executable: String
        /// `install-os --version`.
        public var version: String
        public var directory: String
        public var libraries: [Library]
        /// The highest glibc symbol version the bundle needs (`GLIBC_2.34`): the µOS's glibc must be this or newer.
        public var requiredGlibc: String?
        /// The newest glibc version the µOS's `libc.so.6` defines, as the build found it (`nil`: not found).
        public var microOSGlibc: String?
        /// Executable plus libraries.
        public var bytes: Int64
    }

    public let record: Record
    private let closure: LibraryClosure
    private let unitText: String

    /// Reads the executable and finds its libraries on this host.
    /// - Parameter executable: the install-os executable (dynamically linked, with a runpath of at least
    ///   7 bytes, as SwiftPM links every executable).
    /// - Throws: `InstallerBundleError` naming the executable or library and the problem.
    public init(executable: String, searchDirectories: [String]? = nil) throws(InstallerBundleError) {
        let closure: LibraryClosure
        do {
            closure = try LibraryClosure(executable: executable, searchDirectories: searchDirectories)
            _ = try closure.executable.searchPathRewrite(to: "$ORIGIN")
        } catch {
            throw .executable(path: executable, problem: "\(error)")
        }
        self.closure = closure
        guard let url = Bundle.module.url(forResource: MicroOSFacts.installerUnit, withExtension: nil, subdirectory: "Unit"),
              let unit = try? String(contentsOf: url, encoding: .utf8) else {
            throw .unitMissing
        }
        unitText = unit
        let version = try Self.version(of: executable)
        let size = Self.size(executable)
        record = Record(executable: executable, version: version, directory: Self.directory,
                        libraries: closure.libraries.map { Record.Library(name: $0.name, from: $0.path, bytes: $0.bytes) },
                        requiredGlibc: closure.requiredGlibc,
                        bytes: closure.libraries.reduce(size) { $0 + $1.bytes })
    }

    /// Adds the bundle to `request`: files, the command link, the unit (enabled), the version record.
    public func add(to request: inout EditRequest) throws(InstallerBundleError) {
        let rewrite: [(offset: Int, bytes: [UInt8])]
        do {
            rewrite = try closure.executable.searchPathRewrite(to: "$ORIGIN")
        } catch {
            throw .executable(path: record.executable, problem: "\(error)")
        }
        let program = Self.directory + "/install-os"
        request.files.append(EditRequest.File(
            destination: program,
            source: .patchedHostFile(path: record.executable, size: Self.size(record.executable),
                                     patches: rewrite.map { .init(offset: Int64($0.offset), bytes: $0.bytes) }),
            permissions: 0o755))
        for library in closure.libraries {
            // Libraries are installed under the name objects ask for; the file is the real one behind the links.
            request.files.append(EditRequest.File(destination: Self.directory + "/" + library.name,
                                                  source: .hostFile(path: library.path, size: library.bytes),
                                                  permissions: 0o644))
        }
        request.symlinks.append(EditRequest.Symlink(path: MicroOSFacts.installerBinary,
                                                    target: "../lib/emts/install-os/install-os"))
        request.files.append(EditRequest.File(destination: Self.unitPath, source: .inline(Array(unitText.utf8))))
        request.files.append(EditRequest.File(destination: MicroOSFacts.installerVersionRecord,
                                              source: .inline(Array((record.version + "\n").utf8))))
        if !request.enableUnits.contains(MicroOSFacts.installerUnit) {
            request.enableUnits.append(MicroOSFacts.installerUnit)
        }
    }

    private static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
    }

    /// Runs `executable --version` (which also proves it loads with its libraries on this host).
    private static func version(of executable: String) throws(InstallerBundleError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw .executable(path: executable, problem: "cannot be run (\(error.localizedDescription))")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let version = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !version.isEmpty, !version.contains("\n") else {
            throw .executable(path: executable, problem: "is not install-os: `--version` exited "
                + "\(process.terminationStatus) and printed \"\(version.prefix(200))\"")
        }
        return version
    }
}

/// Why install-os cannot be injected.
public enum InstallerBundleError: Error, Sendable, CustomStringConvertible {
    case executable(path: String, problem: String)
    case unitMissing
    /// The µOS's glibc is older than the one install-os was linked against: it would not start on the medium.
    case glibcTooOld(executable: String, required: String, library: String, provided: String)

    public var description: String {
        switch self {
        case .executable(let path, let problem):
            problem.hasPrefix(path) ? "install-os \(problem)" : "install-os \(path): \(problem)"
        case .unitMissing:
            "\(MicroOSFacts.installerUnit) is missing from emts-iso's resources (the build is incomplete)"
        case .glibcTooOld(let executable, let required, let library, let provided):
            "install-os \(executable) needs \(required), but the µOS's glibc (/\(library)) provides only up to "
                + "\(provided): it would not start on the medium; build install-os on a system whose glibc is not "
                + "newer than the µOS's"
        }
    }
}

extension InstallerBundle {
    /// The µOS's glibc against what the bundle needs: the newest `GLIBC_x.y` its `libc.so.6` (kept by the scan)
    /// defines, or `nil` when the root has no `libc.so.6` the scan knows (nothing is checked then).
    /// - Throws: `InstallerBundleError.glibcTooOld` when that is older than `record.requiredGlibc`.
    public static func checkGlibc(_ record: Record, against index: RootfsIndex) throws(InstallerBundleError) -> String? {
        guard let (path, bytes) = RootfsIndex.glibcPaths.lazy.compactMap({ path in index.keptContents(of: path).map { (path, $0) } }).first,
              let provided = try? ELFFile(path: "/" + path, bytes: Data(bytes)).newestGlibcDefinition else {
            return nil
        }
        if let required = record.requiredGlibc, let need = LibraryClosure.glibcVersion(required),
           let have = LibraryClosure.glibcVersion(provided), have.lexicographicallyPrecedes(need) {
            throw .glibcTooOld(executable: record.executable, required: required, library: path, provided: provided)
        }
        return provided
    }
}
