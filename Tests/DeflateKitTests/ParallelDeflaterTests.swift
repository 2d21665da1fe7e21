import DeflateKit
import Foundation
import StreamKit
import XCTest

final class ParallelDeflaterTests: XCTestCase {
    /// Writes `data` in uneven slices on a thread of its own, then closes; returns the pieces taken in order,
    /// after `delay` (the consumer starting late, as in the rewrite).
    private func run(_ data: [UInt8], workers: Int, pieceSize: Int, bufferLimit: Int = 64 << 20,
                     delay: TimeInterval = 0) throws -> [ParallelDeflater.Piece] {
        let deflater = ParallelDeflater(level: 1, name: "tail", workers: workers, pieceSize: pieceSize,
                                        bufferLimit: bufferLimit)
        defer { deflater.abandon() }
        let producer = Thread {
            var offset = 0
            var step = 1
            do {
                while offset < data.count {
                    let end = min(data.count, offset + step)
                    try data[offset ..< end].withUnsafeBytes { try deflater.write($0) }
                    offset = end
                    step = step * 3 % 200_003 + 1
                }
                try deflater.close()
            } catch {
                deflater.fail(error)
            }
        }
        producer.start()
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        var pieces: [ParallelDeflater.Piece] = []
        while let piece = try deflater.next() { pieces.append(piece) }
        return pieces
    }

    /// The pieces plus a final empty block, inflated as one raw deflate stream.
    private func inflateJoined(_ pieces: [ParallelDeflater.Piece]) throws -> [UInt8] {
        // BFINAL=1, BTYPE=01 (fixed), end-of-block code: the last block, empty.
        try Zlib.inflate(pieces.flatMap(\.deflated) + [0x03, 0x00], windowBits: -15)
    }

    func testPiecesJoinIntoTheInputAndDoNotDependOnTheThreads() throws {
        let data = sampleData(3 << 20 + 12345, seed: 11)
        let one = try run(data, workers: 1, pieceSize: 256 << 10)
        let three = try run(data, workers: 3, pieceSize: 256 << 10, delay: 0.05)
        XCTAssertEqual(one.map(\.deflated), three.map(\.deflated), "the output depends on the input only")
        XCTAssertEqual(one.count, 13)
        XCTAssertEqual(one.map(\.length).reduce(0, +), data.count)
        XCTAssertEqual(try inflateJoined(three), data)
        // Each piece's CRC is its own bytes'.
        var offset = 0
        for piece in three {
            let crc = data[offset ..< offset + piece.length].withUnsafeBytes { CRC32.update(0, $0) }
            XCTAssertEqual(piece.crc, crc)
            offset += piece.length
        }
        // The dictionary keeps the pieces about as small as one stream.
        let whole = Zlib.gzip(data, level: 1).count
        XCTAssertLessThan(three.map(\.deflated.count).reduce(0, +), whole + whole / 50)
    }

    func testAFullBufferHoldsTheProducerUntilTheConsumerComes() throws {
        let data = sampleData(2 << 20, seed: 5)
        // A 64 KiB buffer and a consumer 0.2 s late: the producer waits for it and nothing is lost.
        let pieces = try run(data, workers: 2, pieceSize: 64 << 10, bufferLimit: 64 << 10, delay: 0.2)
        XCTAssertEqual(try inflateJoined(pieces), data)
    }

    func testEmptyInputGivesNoPieces() throws {
        XCTAssertTrue(try run([], workers: 2, pieceSize: 64 << 10).isEmpty)
    }

    func testTheProducersFailureReachesTheConsumer() throws {
        let deflater = ParallelDeflater(level: 1, name: "tail", workers: 2, pieceSize: 64 << 10)
        defer { deflater.abandon() }
        try sampleData(100_000).withUnsafeBytes { try deflater.write($0) }
        deflater.fail(DeflateError(input: "pkg.deb", message: "changed since planned"))
        XCTAssertThrowsError(try { while try deflater.next() != nil {} }()) { error in
            XCTAssertEqual(error as? DeflateError, DeflateError(input: "pkg.deb", message: "changed since planned"))
        }
    }

    func testAbandonReleasesAWaitingProducer() throws {
        let deflater = ParallelDeflater(level: 1, name: "tail", workers: 1, pieceSize: 64 << 10, bufferLimit: 64 << 10)
        let failed = expectation(description: "the producer's write fails once abandoned")
        let producer = Thread {
            do {
                // Far more than the buffer holds, and nobody consumes.
                let slice = sampleData(64 << 10)
                for _ in 0 ..< 64 { try slice.withUnsafeBytes { try deflater.write($0) } }
            } catch {
                failed.fulfill()
            }
        }
        producer.start()
        Thread.sleep(forTimeInterval: 0.2)
        deflater.abandon()
        wait(for: [failed], timeout: 10)
    }

    func testSplicerAppendsPiecesAfterTheKeptPart() throws {
        let data = sampleData(3 << 20, seed: 21)
        let tail = sampleData(1 << 20, seed: 22)
        let pieces = try run(tail, workers: 2, pieceSize: 128 << 10)
        for level: Int32 in [1, 6] {
            let gzip = Zlib.gzip(data, level: level)
            let source = try GzipIndexingSource(source: MemorySource(gzip), name: "test.gz", checkpointSpacing: 1 << 20)
            _ = try source.readAll(limit: 1 << 30) { DeflateError(input: "test", message: "too large") }
            for (removed, keep) in [([Range<Int64>](), Int64(data.count)), ([100_000 ..< 200_000], 2_500_000), ([], 0)] {
                let sink = MemorySink()
                let splicer = try GzipSplicer(index: source.index, removing: removed, keepingUpTo: keep, level: 1,
                                              into: sink, name: "test.gz")
                try splicer.copy(from: MemorySource(gzip))
                for piece in pieces { try splicer.append(piece) }
                XCTAssertThrowsError(try [UInt8](repeating: 0, count: 4).withUnsafeBytes { try splicer.write($0) },
                                     "no write after appended pieces")
                try splicer.finish()
                var expected = Array(data[0 ..< Int(keep)])
                for range in removed.reversed() { expected.removeSubrange(Int(range.lowerBound) ..< Int(range.upperBound)) }
                XCTAssertEqual(try Zlib.gunzip(sink.bytes), expected + tail, "level \(level) removing \(removed) keep \(keep)")
            }
        }
    }
}
