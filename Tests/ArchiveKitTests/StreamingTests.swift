import ArchiveKit
import Foundation
import Testing

@Suite struct StreamingTests {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archivekit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test(arguments: [ArchiveFilter.gzip, .zstd, .xz])
    func compressingSinkRoundTrips(filter: ArchiveFilter) throws {
        let payload = (0 ..< 300_000).map { UInt8(truncatingIfNeeded: $0 / 7) }
        let compressed = MemorySink()
        let sink = try CompressingSink(into: compressed, name: "payload", filter: filter)
        for chunk in stride(from: 0, to: payload.count, by: 65_536) {
            try payload[chunk ..< min(chunk + 65_536, payload.count)].withUnsafeBytes { try sink.write($0) }
        }
        try sink.close()
        #expect(ArchiveFilter.detect(magic: compressed.bytes) == filter)
        #expect(compressed.bytes.count < payload.count / 4)
        let reader = try ArchiveReader(bytes: compressed.bytes, name: "payload", mode: .raw)
        _ = try reader.next()
        #expect(try reader.readAll() == payload)
    }

    @Test func streamedEntryFollowsACompressedSegmentAndReadsBack() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("initrd.img").path
        let file = try FileSink(creating: path)
        // Segment 1: a gzip'd cpio written by libarchive.
        let first = try ArchiveWriter(sink: file, name: path, format: .cpioNewc, filter: .gzip)
        try first.write(.file("init", size: 0, permissions: 0o755), data: Array("#!/bin/sh\n".utf8))
        try first.close()
        try file.pad(toMultipleOf: 4)
        let segmentStart = file.offset
        // Segment 2: one streamed entry of unknown size.
        let payload = (0 ..< 123_457).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let entry = try CpioStreamEntry(in: file, entry: .file("rootfs.tar.gz", size: 0, permissions: 0o644,
                                                               mtime: ArchiveTime(seconds: 1_700_000_000)))
        for chunk in stride(from: 0, to: payload.count, by: 10_000) {
            try payload[chunk ..< min(chunk + 10_000, payload.count)].withUnsafeBytes { try entry.write($0) }
        }
        try entry.finish()
        try file.close()

        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let second = Array(bytes[Int(segmentStart)...])
        let reader = try ArchiveReader(bytes: second, name: "segment 2")
        let header = try #require(try reader.next())
        #expect(header.path == "rootfs.tar.gz")
        #expect(header.size == Int64(payload.count))
        #expect(header.permissions == 0o644)
        #expect(header.mtime.seconds == 1_700_000_000)
        #expect(try reader.readAll() == payload)
        #expect(try reader.next() == nil)

        // GNU cpio agrees on the plain segment.
        let segmentFile = dir.appendingPathComponent("segment2.cpio")
        try Data(second).write(to: segmentFile)
        let (status, listing) = try runTool("/usr/bin/cpio", ["-itv", "--quiet", "-F", segmentFile.path])
        #expect(status == 0)
        #expect(listing.contains("123457"))
        #expect(listing.contains("rootfs.tar.gz"))
    }
}
