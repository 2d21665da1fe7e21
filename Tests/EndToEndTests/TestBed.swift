import BootTest
import Foundation
import Synchronization
import Testing

/// The µOS stand-in built by `testbed/build.sh` from Debian's packages (see testbed/README.md).
///
/// Located through `EMTS_TESTBED` (set by scripts/test), or built on first use through the cached
/// generator, so `swift test` alone also works on a prepared machine.
struct TestBed: Sendable {
    /// The initramfs forms the real µOS comes in.
    enum Variant: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// gzip'd newc cpio (the default).
        case gzip
        /// zstd-compressed outer archive.
        case zstd
        /// An uncompressed early-microcode cpio, zero padding, then the gzip'd main cpio.
        case early

        var testDescription: String { rawValue }
    }

    /// The µOS kernel command line plus the serial console, "power off on panic", and `no_timer_check`: under
    /// TCG on a busy host (a µOS rewrite on the other core) the kernel's IO-APIC timer check can starve and
    /// panic ("IO-APIC + timer doesn't work!") before anything under test runs.
    static let commandLine = "root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd "
        + "console=ttyS0,115200n8 panic=-1 no_timer_check"
    static let agents = ["tink-worker", "caddy", "fluent-bit", "device-discovery"]

    let directory: URL

    var kernel: URL { directory.appendingPathComponent("vmlinuz") }
    func initramfs(_ variant: Variant) -> URL { directory.appendingPathComponent("initramfs-\(variant.rawValue).img") }
    var rootfs: URL { directory.appendingPathComponent("rootfs.tar.gz") }
    /// The µOS image tarball form (root + boot/ kernel files + tmp/).
    var uosTarball: URL { directory.appendingPathComponent("uos-image.tar.gz") }

    /// Where this test run writes console logs.
    static let logDirectory: URL = {
        let dir = URL(fileURLWithPath: "/tmp/emts-iso-e2e/\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    private static let located = Mutex<Result<TestBed, TestBedError>?>(nil)

    /// The test bed, built at most once per test process.
    static func shared() throws -> TestBed {
        try located.withLock { cached in
            if cached == nil { cached = Result { try locate() }.mapError { $0 as? TestBedError ?? .build("\($0)") } }
            return try cached!.get()
        }
    }

    private static func locate() throws -> TestBed {
        if let path = ProcessInfo.processInfo.environment["EMTS_TESTBED"], !path.isEmpty {
            return try validated(URL(fileURLWithPath: path))
        }
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("testbed/build.sh")
        let directory: String
        do {
            directory = try runScript(script, arguments: [])
        } catch {
            throw TestBedError.build("\(error); it needs root and Debian's mirror (see README.md)")
        }
        return try validated(URL(fileURLWithPath: directory))
    }

    private static func validated(_ directory: URL) throws -> TestBed {
        let bed = TestBed(directory: directory)
        let needed = [bed.kernel, bed.rootfs, bed.uosTarball] + Variant.allCases.map(bed.initramfs)
        for file in needed where !FileManager.default.isReadableFile(atPath: file.path) {
            throw TestBedError.incomplete("\(directory.path) lacks \(file.lastPathComponent)")
        }
        return bed
    }
}

enum TestBedError: Error, CustomStringConvertible {
    case build(String)
    case incomplete(String)

    var description: String {
        switch self {
        case .build(let text): "test bed could not be built: \(text)"
        case .incomplete(let text): "test bed is incomplete: \(text)"
        }
    }
}

/// Runs a fixture script (`testbed/build.sh`, `Fixtures/*.sh`); the last line of its standard output is the
/// result (a directory), its log goes to the test's standard error.
func runScript(_ script: URL, arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [script.path] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0, let last = text.split(separator: "\n").last else {
        throw ShellError(command: ([script.path] + arguments).joined(separator: " "), status: process.terminationStatus,
                         output: "(its log is on standard error)")
    }
    return String(last)
}

/// Runs blocking work (a µOS rewrite, a shell command) on a thread of its own, so it never occupies one of
/// the few threads Swift concurrency shares with the QEMU harness's console readers and watchdogs.
func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

extension TestBed {
    /// The shared test bed, located (or built) off the concurrency pool.
    static func sharedAsync() async throws -> TestBed {
        try await offloaded { try TestBed.shared() }
    }
}
