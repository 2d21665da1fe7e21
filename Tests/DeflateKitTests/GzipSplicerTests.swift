import CZlib
import DeflateKit
import StreamKit
import XCTest

/// gzip with zlib itself (the reference), and gunzip that insists on one complete, checked member.
enum Zlib {
    static func gzip(_ data: [UInt8], level: Int32 = 6, strategy: Int32 = Z_DEFAULT_STRATEGY, flushEvery: Int? = nil) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, level, Z_DEFLATED, 31, 8, strategy, zlibVersion(),
                                   Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let step = flushEvery ?? max(data.count, 1)
        var offset = 0
        repeat {
            let end = min(data.count, offset + step)
            let flush = end == data.count ? Z_FINISH : Z_FULL_FLUSH
            data.withUnsafeBufferPointer { input in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + offset })
                stream.avail_in = UInt32(end - offset)
                var code: Int32
                repeat {
                    code = buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = UInt32(out.count)
                        return deflate(&stream, flush)
                    }
                    output += buffer[0 ..< buffer.count - Int(stream.avail_out)]
                } while stream.avail_out == 0 || (flush == Z_FINISH && code != Z_STREAM_END)
            }
            offset = end
        } while offset < data.count
        return output
    }

    /// Inflates one gzip member; fails on a bad CRC, a short stream or bytes after it.
    static func gunzip(_ data: [UInt8]) throws -> [UInt8] {
        try inflate(data, windowBits: 31)
    }

    /// Inflates one deflate stream (`windowBits` as zlib takes it: -15 raw, 31 gzip); fails unless it ends, with
    /// nothing after it.
    static func inflate(_ data: [UInt8], windowBits: Int32) throws -> [UInt8] {
        var stream = z_stream()
        precondition(inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var input = data
        var code: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { bytes in
            stream.next_in = bytes.baseAddress
            stream.avail_in = UInt32(bytes.count)
            repeat {
                code = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                output += buffer[0 ..< buffer.count - Int(stream.avail_out)]
            } while code == Z_OK
        }
        guard code == Z_STREAM_END, stream.avail_in == 0 else {
            throw DeflateError(input: "test", message: "inflate: \(code), \(stream.avail_in) bytes left")
        }
        return output
    }
}

/// Text-like data with long and short repeats (like a tar of a root filesystem), deterministic.
func sampleData(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    let words = (0 ..< 64).map { index in Array("word\(index)-\(index * 7919 % 1000) ".utf8) }
    var data: [UInt8] = []
    data.reserveCapacity(count + 64)
    while data.count < count {
        let choice = next() % 10
        if choice < 6 {
            data += words[Int(next() % 64)]
        } else if choice < 8, data.count > 40_000 {
            // A repeat from far back (within the 32 KiB window or beyond it).
            let distance = Int(next() % 40_000) + 1
            let length = Int(next() % 200) + 3
            let start = data.count - distance
            for offset in 0 ..< length { data.append(data[start + offset % distance]) }
        } else {
            for _ in 0 ..< Int(next() % 64) { data.append(UInt8(truncatingIfNeeded: next())) }
        }
    }
    return Array(data.prefix(count))
}

final class GzipSplicerTests: XCTestCase {
    private func index(_ gzip: [UInt8], spacing: Int64 = 4 << 20) throws -> (DeflateIndex, [UInt8]) {
        let source = try GzipIndexingSource(source: MemorySource(gzip), name: "test.gz", checkpointSpacing: spacing)
        let data = try source.readAll(limit: 1 << 30) { DeflateError(input: "test", message: "too large") }
        return (source.index, data)
    }

    private func splice(_ gzip: [UInt8], index: DeflateIndex, removing removed: [Range<Int64>], keep: Int64,
                        tail: [UInt8]) throws -> (output: [UInt8], splicer: GzipSplicer) {
        let sink = MemorySink()
        let splicer = try GzipSplicer(index: index, removing: removed, keepingUpTo: keep, into: sink, name: "test.gz")
        // Small reads, so chunk boundaries fall everywhere.
        try splicer.copy(from: ChunkedSource(gzip, chunk: 7919))
        try tail.withUnsafeBytes { try splicer.write($0) }
        try splicer.finish()
        return (sink.bytes, splicer)
    }

    private func expected(_ data: [UInt8], removing removed: [Range<Int64>], keep: Int64, tail: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var position = 0
        for range in removed.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            result += data[position ..< Int(range.lowerBound)]
            position = Int(range.upperBound)
        }
        result += data[position ..< Int(keep)]
        return result + tail
    }

    func testIndexingYieldsTheDataAndBoundaries() throws {
        let data = sampleData(3 << 20)
        let gzip = Zlib.gzip(data)
        let (index, inflated) = try index(gzip, spacing: 256 << 10)
        XCTAssertEqual(inflated, data)
        XCTAssertTrue(index.isSpliceable)
        XCTAssertEqual(index.uncompressedBytes, Int64(data.count))
        XCTAssertEqual(index.compressedBytes, Int64(gzip.count))
        XCTAssertEqual(index.boundaryOffsets.first, 0)
        XCTAssertEqual(index.boundaryBits.first, 80, "the deflate data starts after the 10-byte header")
        XCTAssertGreaterThan(index.boundaryCount, 10)
        XCTAssertGreaterThanOrEqual(index.checkpoints.count, 8)
        // Each boundary's CRC is the CRC of the data before it.
        for boundary in stride(from: 0, to: index.boundaryCount, by: 7) {
            let prefix = data[0 ..< Int(index.boundaryOffsets[boundary])]
            let crc = prefix.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            XCTAssertEqual(index.boundaryCRCs[boundary], crc)
        }
    }

    func testSplicedStreamInflatesToTheEditedData() throws {
        let data = sampleData(3 << 20, seed: 7)
        let tail = Array("new entries at the end".utf8) + sampleData(100_000, seed: 9)
        for (level, strategy) in [(Int32(1), Z_DEFAULT_STRATEGY), (6, Z_DEFAULT_STRATEGY), (9, Z_DEFAULT_STRATEGY),
                                  (6, Z_FIXED), (0, Z_DEFAULT_STRATEGY)] {
            let gzip = Zlib.gzip(data, level: level, strategy: strategy)
            for spacing: Int64 in [64 << 10, 4 << 20] {
                let (index, _) = try index(gzip, spacing: spacing)
                let cases: [(removed: [Range<Int64>], keep: Int64)] = [
                    ([], Int64(data.count)),
                    ([], Int64(data.count) - 1024),
                    ([1000 ..< 1512], 2_000_000),
                    ([500_000 ..< 500_512, 510_000 ..< 520_000, 1_700_000 ..< 1_700_100, 2_900_000 ..< 3_000_000], 3_100_000),
                    ([0 ..< 4096], 0 + 8192),
                    ([], 0),
                ]
                for (removed, keep) in cases {
                    let (output, splicer) = try splice(gzip, index: index, removing: removed, keep: keep, tail: tail)
                    XCTAssertEqual(try Zlib.gunzip(output), expected(data, removing: removed, keep: keep, tail: tail),
                                   "level \(level) strategy \(strategy) spacing \(spacing) removing \(removed) keep \(keep)")
                    if level == 6, keep > 1_000_000 {
                        // Most of the original is copied, not recompressed.
                        XCTAssertLessThan(splicer.bytesDeflated, Int64(data.count) / 2)
                    }
                }
            }
        }
    }

    func testFullFlushPointsAndStoredBlocks() throws {
        // Byte-aligned boundaries (full flushes) and stored blocks exercise the aligned copy path.
        let data = sampleData(1 << 20, seed: 3)
        let gzip = Zlib.gzip(data, level: 6, flushEvery: 20_000)
        let (index, _) = try index(gzip, spacing: 100_000)
        let removed: [Range<Int64>] = [200_000 ..< 200_001, 600_000 ..< 700_000]
        let (output, _) = try splice(gzip, index: index, removing: removed, keep: 1_000_000, tail: [1, 2, 3])
        XCTAssertEqual(try Zlib.gunzip(output), expected(data, removing: removed, keep: 1_000_000, tail: [1, 2, 3]))
    }

    func testAStreamThatChangedIsRefused() throws {
        let data = sampleData(1 << 20, seed: 5)
        let gzip = Zlib.gzip(data)
        let (index, _) = try index(gzip)
        var changed = Zlib.gzip(sampleData(1 << 20, seed: 6))
        changed += [UInt8](repeating: 0, count: max(0, gzip.count - changed.count))
        let splicer = try GzipSplicer(index: index, removing: [], keepingUpTo: 500_000, into: MemorySink(), name: "rootfs.tar.gz")
        XCTAssertThrowsError(try splicer.copy(from: MemorySource(changed))) { error in
            XCTAssertTrue("\(error)".hasPrefix("rootfs.tar.gz: "), "\(error)")
        }
    }

    func testSeveralMembersAreReadButNotSpliceable() throws {
        let first = sampleData(100_000, seed: 1)
        let second = sampleData(50_000, seed: 2)
        let (index, data) = try index(Zlib.gzip(first) + Zlib.gzip(second))
        XCTAssertEqual(data, first + second)
        XCTAssertFalse(index.isSpliceable)
        XCTAssertThrowsError(try GzipSplicer(index: index, removing: [], keepingUpTo: 0, into: MemorySink(), name: "x.gz"))
        // Trailing zeros (padding) are allowed.
        let (padded, _) = try self.index(Zlib.gzip(first) + [UInt8](repeating: 0, count: 1000))
        XCTAssertTrue(padded.isSpliceable)
    }

    func testDamagedAndTruncatedStreamsNameTheInput() throws {
        let gzip = Zlib.gzip(sampleData(200_000))
        for bad in [Array(gzip.prefix(gzip.count / 2)), Array(gzip.prefix(100)) + [UInt8](repeating: 0xFF, count: 5000)] {
            XCTAssertThrowsError(try index(bad)) { error in
                XCTAssertTrue("\(error)".hasPrefix("test.gz: "), "\(error)")
            }
        }
    }

    func testBadEditsAreRefused() throws {
        let (index, _) = try index(Zlib.gzip(sampleData(100_000)))
        XCTAssertThrowsError(try GzipSplicer(index: index, removing: [], keepingUpTo: 200_000, into: MemorySink(), name: "x"))
        XCTAssertThrowsError(try GzipSplicer(index: index, removing: [10 ..< 20, 15 ..< 30], keepingUpTo: 50_000,
                                             into: MemorySink(), name: "x"))
        XCTAssertThrowsError(try GzipSplicer(index: index, removing: [40_000 ..< 60_000], keepingUpTo: 50_000,
                                             into: MemorySink(), name: "x"))
    }
}

/// Hands out `bytes` in reads of at most `chunk` bytes.
final class ChunkedSource: ByteSource {
    private let bytes: [UInt8]
    private let chunk: Int
    private var offset = 0

    init(_ bytes: [UInt8], chunk: Int) {
        self.bytes = bytes
        self.chunk = chunk
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, chunk, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}
