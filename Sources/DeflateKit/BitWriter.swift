import StreamKit

/// Writes a deflate bit stream to a sink: bits go in least significant first, as deflate packs them.
/// Whole bytes are buffered and written in 1 MiB pieces.
final class BitWriter {
    private let sink: any ByteSink
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Bits not yet forming a whole byte (fewer than 8 between calls).
    private var bits: UInt64 = 0
    private var count = 0
    /// Bytes handed to the sink so far.
    private(set) var written: Int64 = 0

    init(sink: any ByteSink, capacity: Int = 1 << 20) {
        self.sink = sink
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    var isAligned: Bool { count == 0 }

    /// Appends the low `n` bits of `value` (n ≤ 56).
    func put(_ value: UInt64, bits n: Int) throws {
        bits |= (value & ((1 << UInt64(n)) - 1)) << UInt64(count)
        count += n
        while count >= 8 {
            try byte(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
            count -= 8
        }
    }

    /// Appends whole bytes; the stream must be at a byte boundary.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(count == 0, "byte write off a byte boundary")
        var offset = 0
        while offset < bytes.count {
            if used == buffer.count { try flush() }
            let take = min(bytes.count - offset, buffer.count - used)
            (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress! + offset, byteCount: take)
            used += take
            offset += take
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends the bits `range` of `bytes`, whose first bit is bit `base` of the stream they come from. The
    /// output must be at the same bit phase as the range's start (`pad(toPhase:)`): deflate blocks then keep
    /// their byte alignment, which stored blocks depend on, and whole bytes are copied as they are.
    func copyBits(from bytes: UnsafeRawBufferPointer, base: Int64, range: Range<Int64>) throws {
        precondition(count == Int(range.lowerBound & 7), "bit copy out of phase")
        var position = range.lowerBound
        let end = range.upperBound
        if count != 0 {
            // The rest of the partial byte.
            let n = Int(min(Int64(8 - count), end - position))
            try put(UInt64(bytes[Int((position - base) >> 3)]) >> UInt64(count), bits: n)
            position += Int64(n)
        }
        let whole = Int((end - position) >> 3)
        let index = Int((position - base) >> 3)
        if whole > 0 {
            try write(UnsafeRawBufferPointer(rebasing: bytes[index ..< index + whole]))
            position += Int64(whole) * 8
        }
        if position < end {
            try put(UInt64(bytes[index + whole]), bits: Int(end - position))
        }
    }

    /// Moves the stream to bit `phase` (0-7) within a byte with an empty block of exactly the right length:
    /// a dynamic-Huffman block that codes nothing but its end, whose header lists 7 to 19 code-length code
    /// lengths (3 bits each, so some count lands on every phase). Nothing is written when already there.
    ///
    /// Its literal/length code gives literals 0-254 8 bits and 255 and end-of-block 9 bits (complete, as
    /// inflaters require); its single distance code is unused (length 0); the code-length code gives the four
    /// symbols it uses (0, 8, 9 and 16) 2 bits each.
    func pad(toPhase phase: Int) throws {
        guard count != phase else { return }
        let fixedBits = 206
        let lengths = (7 ... 19).first { (count + fixedBits + 3 * $0) % 8 == phase }!
        try put(0, bits: 1)  // not the last block
        try put(2, bits: 2)  // dynamic Huffman codes
        try put(0, bits: 5)  // 257 literal/length codes
        try put(0, bits: 5)  // 1 distance code
        try put(UInt64(lengths - 4), bits: 4)
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        for symbol in order.prefix(lengths) { try put([0, 8, 9, 16].contains(symbol) ? 2 : 0, bits: 3) }
        // Canonical 2-bit codes 00, 01, 10, 11 for 0, 8, 9, 16, written first bit first (bit-reversed).
        let code: [Int: UInt64] = [0: 0b00, 8: 0b10, 9: 0b01, 16: 0b11]
        try put(code[8]!, bits: 2)                                        // literal 0: 8 bits
        for _ in 0 ..< 41 { try put(code[16]!, bits: 2); try put(3, bits: 2) }  // 41 × "repeat 6 times"
        for _ in 0 ..< 2 { try put(code[16]!, bits: 2); try put(1, bits: 2) }   // 2 × "repeat 4 times": 254 in all
        try put(code[9]!, bits: 2)                                        // literal 255: 9 bits
        try put(code[9]!, bits: 2)                                        // end of block: 9 bits
        try put(code[0]!, bits: 2)                                        // the distance code: unused
        try put(0x1FF, bits: 9)                                           // end of block (code 111111111)
    }

    /// Brings the stream to a byte boundary with an empty stored block (3 header bits, padding, LEN 0,
    /// NLEN 0xFFFF), which inflaters pass over. Nothing is written when already aligned.
    func alignWithEmptyStoredBlock() throws {
        guard count != 0 else { return }
        try put(0, bits: 3)
        try alignWithEmptyStoredBlockPadding()
        try write([0x00, 0x00, 0xFF, 0xFF])
    }

    /// Zero bits up to the next byte boundary (inside a stored block's header).
    func alignWithEmptyStoredBlockPadding() throws {
        if count != 0 { try put(0, bits: 8 - count) }
    }

    private func byte(_ value: UInt8) throws {
        if used == buffer.count { try flush() }
        buffer[used] = value
        used += 1
    }

    /// Hands the buffered whole bytes to the sink.
    func flush() throws {
        guard used > 0 else { return }
        try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0 ..< used]))
        written += Int64(used)
        used = 0
    }
}
