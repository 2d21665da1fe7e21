import ArchiveKit
import Foundation
import MicroOS
import Testing

/// A scratch directory per test, removed when the test's value goes away.
final class InitramfsScratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("initramfs-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Builders for initramfs fixtures: cpio archives from ArchiveKit, compressed streams from the real tools.
enum InitramfsFixture {
    typealias File = (entry: ArchiveEntry, data: [UInt8])

    static func file(_ path: String, _ text: String, permissions: UInt32 = 0o644) -> File {
        (.file(path, size: 0, permissions: permissions), Array(text.utf8))
    }

    static func directory(_ path: String) -> File { (.directory(path), []) }

    /// Bytes that compress a little but not to nothing, so compressed streams span several blocks.
    static func payload(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        return (0 ..< count).map { index in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return index % 3 == 0 ? UInt8(truncatingIfNeeded: state >> 59) + 0x61 : UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// A newc cpio archive written by libarchive (no block padding after the trailer), optionally compressed.
    static func cpio(_ files: [File], filter: ArchiveFilter = .none) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try ArchiveWriter(sink: sink, name: "fixture", format: .cpioNewc, filter: filter)
        for file in files { try writer.write(file.entry, data: file.data) }
        try writer.close()
        return sink.bytes
    }

    /// A tar archive written by libarchive, optionally compressed.
    static func tar(_ files: [File], filter: ArchiveFilter = .gzip) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try ArchiveWriter(sink: sink, name: "rootfs", format: .tarPax, filter: filter)
        for file in files { try writer.write(file.entry, data: file.data) }
        try writer.close()
        return sink.bytes
    }

    /// Compresses `bytes` with the command-line tool for `filter` (lz4 in the kernel's legacy format when asked).
    static func compress(_ bytes: [UInt8], with filter: ArchiveFilter, legacyLZ4: Bool = false,
                         in scratch: InitramfsScratch) throws -> [UInt8] {
        let arguments: [String] = switch filter {
        case .gzip: ["gzip", "-c", "-n", "-6"]
        case .zstd: ["zstd", "-q", "-c", "--no-progress"]
        case .xz: ["xz", "-c", "--check=crc32"]
        case .lz4: legacyLZ4 ? ["lz4", "-q", "-c", "-l"] : ["lz4", "-q", "-c"]
        case .bzip2: ["bzip2", "-c"]
        case .none: ["cat"]
        }
        return try run(arguments, input: bytes, in: scratch)
    }

    /// Runs a tool with `input` on stdin and returns its stdout; files avoid pipe deadlocks.
    static func run(_ arguments: [String], input: [UInt8] = [], directory: String? = nil,
                    in scratch: InitramfsScratch) throws -> [UInt8] {
        let inputPath = try scratch.write("stdin-\(UUID().uuidString)", input)
        let outputPath = scratch.path("stdout-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: inputPath)
            try? FileManager.default.removeItem(atPath: outputPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InitramfsFixtureError(message: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: outputPath)))
    }

    static func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

    /// Every entry with its data, as the reader hands them out.
    static func readEverything(_ reader: InitramfsReader) throws -> [(item: InitramfsItem, data: [UInt8])] {
        var result: [(InitramfsItem, [UInt8])] = []
        while let item = try reader.next() { result.append((item, try reader.readAll())) }
        return result
    }

    /// Reads the whole file and returns its entries and layout.
    static func read(_ path: String) throws -> (entries: [(item: InitramfsItem, data: [UInt8])], layout: InitramfsLayout) {
        let reader = try InitramfsReader(path: path)
        let entries = try readEverything(reader)
        return (entries, try #require(reader.layout))
    }

    /// The error thrown while reading the whole file (nil when it reads cleanly).
    static func failure(reading path: String) -> InitramfsError? {
        do {
            _ = try read(path)
            return nil
        } catch let error as InitramfsError {
            return error
        } catch {
            Issue.record("expected an InitramfsError, got \(type(of: error)): \(error)")
            return nil
        }
    }
}

struct InitramfsFixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
