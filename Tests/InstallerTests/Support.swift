import DiskKit
import Foundation
import Installer
import Testing

/// A private directory for one test, removed when the test's closure returns.
func withScratchDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("installer-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// Creates a sparse file of `size` bytes.
func makeSparseFile(_ path: String, size: UInt64) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.truncate(atOffset: size)
}

func writeText(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String, offset: UInt64 = 0, count: Int) throws -> [UInt8] {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    return [UInt8](try handle.read(upToCount: count) ?? Data())
}

struct ToolResult {
    var status: Int32
    var output: String
}

/// Runs an external tool (found on PATH) and returns its exit status and combined output.
@discardableResult
func runTool(_ arguments: [String]) throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + (environment["PATH"] ?? "")
    environment["LC_ALL"] = "C"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ToolResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Runs a tool that must succeed.
@discardableResult
func mustRun(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let result = try runTool(arguments)
    try #require(result.status == 0, "\(arguments.joined(separator: " ")): \(result.output)", sourceLocation: sourceLocation)
    return result.output
}

/// The sha256 of a file, with sha256sum.
func sha256(of path: String) throws -> String {
    String(try mustRun(["sha256sum", path]).prefix(64))
}

/// Writes `count` pseudo-random bytes at `offset` (deterministic per seed, so images differ in content).
func scribble(_ path: String, offset: UInt64, count: Int, seed: UInt64) throws {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for index in bytes.indices {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        // Half the bytes repeat so the data compresses a little, like a real file system.
        bytes[index] = index % 2 == 0 ? UInt8(truncatingIfNeeded: state) : UInt8(index % 251)
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: bytes)
}

/// A GPT made with libparted (sgdisk would sync every file system of the machine, a second each time).
func makeGPT(_ path: String, partitions: [PartitionSpec]) throws {
    let table = try DiskDevice(path: path).createPartitionTable(.gpt)
    for partition in partitions { try table.add(partition) }
    try table.commit()
}

/// A raw disk image with a GPT like the EMT image's (ESP, rootfs), some data in each partition.
func makeRawImage(_ path: String, size: UInt64 = 8 << 20, seed: UInt64 = 1) throws {
    try makeSparseFile(path, size: size)
    try makeGPT(path, partitions: [
        PartitionSpec(start: 2048, end: 6143, fileSystemType: "fat32", name: "esp", flags: [.esp]),
        PartitionSpec(start: 6144, end: Int64(size / 512) - 2048, fileSystemType: "ext4", name: "rootfs"),
    ])
    try scribble(path, offset: 1 << 20, count: 300_000, seed: seed)
    try scribble(path, offset: 5 << 20, count: 500_000, seed: seed + 1)
}

/// Compresses `raw` into `directory` as `<name>.raw.<ext>` with the CLI tool, plus its `.sha256` file.
/// Returns the compressed file's path.
@discardableResult
func compressImage(_ raw: String, name: String, compression: ImageCompression, into directory: String,
                   checksum: String? = nil) throws -> String {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let output = directory + "/" + name + compression.suffix
    let tool: [String]
    switch compression {
    case .gzip: tool = ["gzip", "-c", "-6"]
    case .zstd: tool = ["zstd", "-q", "-c"]
    case .xz: tool = ["xz", "-c", "-T1"]
    }
    try mustRun(["sh", "-c", "\(tool.joined(separator: " ")) \"$1\" > \"$2\"", "sh", raw, output])
    let digest = try checksum ?? sha256(of: output)
    try writeText("\(digest)  \(name + compression.suffix)\n", to: output + ".sha256")
    return output
}

/// Hands out directories instead of mounting: each device path maps to a directory.
final class DirectoryMounter: FileSystemMounter, @unchecked Sendable {
    private let lock = NSLock()
    private let directories: [String: String]
    private var log: [String] = []

    init(_ directories: [String: String]) {
        self.directories = directories
    }

    func mount(_ device: String, type: String, access: MountAccess) throws(MountError) -> MountedFileSystem {
        guard let directory = directories[device] else {
            throw MountError(path: device, operation: "mounting \(type)", reason: "no directory for it in the test")
        }
        lock.withLock { log.append("mount \(device) \(type) \(access.rawValue)") }
        return MountedFileSystem(device: device, root: directory, access: access, owned: true)
    }

    func unmount(_ mounted: MountedFileSystem) throws(MountError) {
        lock.withLock { log.append("unmount \(mounted.device)") }
    }

    var calls: [String] { lock.withLock { log } }
}

/// Records commands and answers them through `respond`.
final class RecordingRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [[String]] = []
    private let respond: @Sendable ([String]) -> CommandResult

    init(_ respond: @escaping @Sendable ([String]) -> CommandResult = { _ in CommandResult(status: 0) }) {
        self.respond = respond
    }

    func run(_ arguments: [String]) throws(CommandError) -> CommandResult {
        lock.withLock { recorded.append(arguments) }
        return respond(arguments)
    }

    var commands: [[String]] { lock.withLock { recorded } }
}

/// A monotonic clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Double

    init(_ start: Double = 100) { current = start }

    var now: Double {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    var function: @Sendable () -> Double { { [self] in now } }
}
