import StreamKit
import XCTest

final class ThreadedSourceTests: XCTestCase {
    /// Hands out its bytes in reads of `step`, then fails with `failure` if one is set.
    final class Upstream: ByteSource {
        let bytes: [UInt8]
        let step: Int
        let failure: (any Error)?
        var offset = 0

        init(_ bytes: [UInt8], step: Int, failure: (any Error)? = nil) {
            self.bytes = bytes
            self.step = step
            self.failure = failure
        }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let count = min(step, buffer.count, bytes.count - offset)
            if count == 0, let failure { throw failure }
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            offset += count
            return count
        }
    }

    struct Broken: Error, Equatable {}

    func testEveryByteArrivesInOrder() throws {
        let bytes = (0 ..< 3_000_001).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let source = ThreadedSource(Upstream(bytes, step: 77_777), name: "test", chunkSize: 100_000, depth: 2)
        let read = try source.readAll(limit: 1 << 30) { Broken() }
        XCTAssertEqual(read, bytes)
        source.stop()
    }

    func testTheUpstreamFailureComesAfterItsBytes() throws {
        let source = ThreadedSource(Upstream([1, 2, 3], step: 2, failure: Broken()), name: "test", chunkSize: 2)
        var buffer = [UInt8](repeating: 0, count: 8)
        var got: [UInt8] = []
        XCTAssertThrowsError(try {
            while true {
                let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                got += buffer[0 ..< count]
            }
        }()) { error in XCTAssertEqual(error as? Broken, Broken()) }
        XCTAssertEqual(got, [1, 2, 3])
    }

    func testStopLeavesTheUpstreamToTheCaller() throws {
        let upstream = Upstream([UInt8](repeating: 7, count: 10_000_000), step: 4096)
        let source = ThreadedSource(upstream, name: "test", chunkSize: 65_536, depth: 2)
        var buffer = [UInt8](repeating: 0, count: 1000)
        _ = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        source.stop()
        let position = upstream.offset
        // Read ahead at most depth + 1 chunks (plus the one being read), and no more after stop().
        XCTAssertLessThanOrEqual(position, 4 * 65_536 + 4096)
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(upstream.offset, position)
        source.stop()
    }
}
