import CZlib
@testable import DeflateKit
import StreamKit
import XCTest

final class BitWriterTests: XCTestCase {
    /// Inflates a raw deflate stream; fails unless it ends properly.
    private func inflateRaw(_ data: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        precondition(inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { inflateEnd(&stream) }
        var input = data
        var output = [UInt8](repeating: 0, count: 1 << 16)
        let code = input.withUnsafeMutableBufferPointer { inputBytes in
            output.withUnsafeMutableBufferPointer { outputBytes in
                stream.next_in = inputBytes.baseAddress
                stream.avail_in = UInt32(inputBytes.count)
                stream.next_out = outputBytes.baseAddress
                stream.avail_out = UInt32(outputBytes.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard code == Z_STREAM_END else {
            throw DeflateError(input: "raw", message: "inflate: \(code) \(stream.msg.map { String(cString: $0) } ?? "")")
        }
        return Array(output[0 ..< output.count - Int(stream.avail_out)])
    }

    func testPaddingReachesEveryPhaseFromEveryPhase() throws {
        for from in 0 ..< 8 {
            for to in 0 ..< 8 {
                let sink = MemorySink()
                let writer = BitWriter(sink: sink)
                try writer.pad(toPhase: from)
                try writer.pad(toPhase: to)
                // A last stored block: its header, padding to the byte, LEN, NLEN, data.
                try writer.put(1, bits: 1)
                try writer.put(0, bits: 2)
                try writer.alignWithEmptyStoredBlockPadding()
                try writer.write([5, 0, 0xFA, 0xFF] + Array("hello".utf8))
                try writer.flush()
                XCTAssertEqual(try inflateRaw(sink.bytes), Array("hello".utf8), "from phase \(from) to \(to)")
            }
        }
    }

    func testCopyKeepsThePhaseAndTheBits() throws {
        let source: [UInt8] = (0 ..< 64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for start in 0 ..< 24 {
            for end in start ..< 200 where end % 5 == 0 {
                let sink = MemorySink()
                let writer = BitWriter(sink: sink)
                try writer.put(0, bits: start % 8)
                try source.withUnsafeBytes { try writer.copyBits(from: $0, base: 0, range: Int64(start) ..< Int64(end)) }
                try writer.put(0, bits: (8 - (end % 8)) % 8)
                try writer.flush()
                // Bits start..<end of the output equal those of the source.
                for bit in start ..< end {
                    let got = (sink.bytes[(bit - start + start % 8) / 8] >> ((bit - start + start % 8) % 8)) & 1
                    XCTAssertEqual(got, (source[bit / 8] >> (bit % 8)) & 1, "bit \(bit) of \(start)..<\(end)")
                }
            }
        }
    }
}
