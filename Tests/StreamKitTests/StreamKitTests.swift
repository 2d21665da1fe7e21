import Foundation
import Crypto
import StreamKit
import Testing

@Suite struct StreamKitTests {
    @Test func deliversEveryByteInOrder() throws {
        let collected = MemorySink()
        let sink = ThreadedSink(collected, name: "test", chunkSize: 1000, depth: 2)
        let payload = (0 ..< 123_456).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var offset = 0
        var step = 1
        while offset < payload.count {
            let end = min(offset + step, payload.count)
            try payload[offset ..< end].withUnsafeBytes { try sink.write($0) }
            offset = end
            step = step % 3000 + 17
        }
        try sink.close()
        #expect(collected.bytes == payload)
    }

    @Test func downstreamFailureReachesTheProducer() throws {
        struct Full: Error {}
        final class FailAfter: ByteSink {
            var left: Int
            init(_ left: Int) { self.left = left }
            func write(_ bytes: UnsafeRawBufferPointer) throws {
                left -= bytes.count
                if left < 0 { throw Full() }
            }
        }
        let sink = ThreadedSink(FailAfter(5000), name: "test", chunkSize: 1000, depth: 2)
        #expect(throws: Full.self) {
            for _ in 0 ..< 100 { try [UInt8](repeating: 1, count: 1000).withUnsafeBytes { try sink.write($0) } }
            try sink.close()
        }
    }

    @Test func countingAndNullSinks() throws {
        let null = NullSink()
        var reported: Int64 = 0
        let counting = CountingSink(null) { reported = $0 }
        try [UInt8](repeating: 0, count: 4096).withUnsafeBytes { try counting.write($0) }
        #expect(counting.count == 4096 && null.count == 4096 && reported == 4096)
    }

    @Test func fileSinkNeverOverwrites() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("streamkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("exists").path
        try Data("keep".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: FileStreamError.self) { _ = try FileSink(creating: path) }
        #expect(error?.description.hasPrefix(path) == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep")
    }

    @Test func fileSinkUpdatesAnExistingFileInPlace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("streamkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("image").path
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: path))
        let sink = try FileSink(updating: path)
        #expect(sink.offset == 10)
        try sink.patch(Array("ab".utf8), at: 3)
        try sink.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "012ab56789")
        let missing = dir.appendingPathComponent("missing").path
        let error = #expect(throws: FileStreamError.self) { _ = try FileSink(updating: missing) }
        #expect(error?.description.hasPrefix(missing) == true)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}

@Suite struct FileDigestTests {
    @Test func digestsWholeFilesAndRanges() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("streamkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("data").path
        let bytes = (0 ..< 3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        func hex(_ data: some Sequence<UInt8>) -> String {
            SHA256.hash(data: Data(data)).map { String(format: "%02x", $0) }.joined()
        }
        var seen: [UInt64] = []
        let whole = try FileDigest.sha256(of: path) { seen.append($0) }
        #expect(whole == FileDigest.Result(bytes: 3_000_000, sha256: hex(bytes)))
        #expect(seen.last == 3_000_000 && seen.count == 3)
        let part = try FileDigest.sha256(of: path, range: 1_000_000 ..< 2_500_001)
        #expect(part == FileDigest.Result(bytes: 1_500_001, sha256: hex(bytes[1_000_000 ..< 2_500_001])))
        #expect(throws: FileStreamError.self) { try FileDigest.sha256(of: path, range: 2_999_000 ..< 3_000_001) }
        let error = #expect(throws: FileStreamError.self) { try FileDigest.sha256(of: dir.path + "/none") }
        #expect(error?.description.hasPrefix(dir.path + "/none") == true)
    }
}
