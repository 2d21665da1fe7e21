/// CRC-32 as gzip and xz use it (reflected, polynomial 0xEDB88320), with zlib's combine operation.
///
/// Needed because libarchive 3.6 never checks a gzip trailer, and to recognise xz stream footers.
enum InitramfsCRC32 {
    private static let table: [UInt32] = (0 ..< 256).map { index in
        var value = UInt32(index)
        for _ in 0 ..< 8 { value = value & 1 != 0 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }

    /// Continues `crc` (0 for an empty input) over `bytes`.
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value = ~crc
        table.withUnsafeBufferPointer { table in
            for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
        }
        return ~value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { update(0, $0) } }

    /// Continues `crc` over `count` zero bytes.
    static func updateZeros(_ crc: UInt32, count: Int64) -> UInt32 {
        let zeros = [UInt8](repeating: 0, count: 64 << 10)
        var crc = crc
        var left = count
        while left > 0 {
            let step = Int(min(left, Int64(zeros.count)))
            crc = zeros.withUnsafeBytes { update(crc, UnsafeRawBufferPointer(rebasing: $0[0 ..< step])) }
            left -= Int64(step)
        }
        return crc
    }

    /// The CRC of A followed by B, from the CRCs of A and B and the length of B (zlib's crc32_combine).
    static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: Int64) -> UInt32 {
        multiplyModP(powerOfX(lengthB), crcA) ^ crcB
    }

    private static func multiplyModP(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var mask: UInt32 = 1 << 31
        var product: UInt32 = 0
        var b = b
        while true {
            if a & mask != 0 {
                product ^= b
                if a & (mask &- 1) == 0 { break }
            }
            mask >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ 0xEDB8_8320 : b >> 1
        }
        return product
    }

    /// x^(2^k) mod P for k in 0..<32, with x^1 as 1 << 30 in the reflected representation.
    private static let powersOfTwo: [UInt32] = {
        var power: UInt32 = 1 << 30
        var result = [power]
        for _ in 1 ..< 32 {
            power = multiplyModP(power, power)
            result.append(power)
        }
        return result
    }()

    /// x^(8 * bytes) mod P: the operator that appends `bytes` zero bytes to a raw CRC.
    private static func powerOfX(_ bytes: Int64) -> UInt32 {
        var result: UInt32 = 1 << 31
        var n = UInt64(bytes)
        var k = 3
        while n != 0 {
            if n & 1 != 0 { result = multiplyModP(powersOfTwo[k & 31], result) }
            n >>= 1
            k += 1
        }
        return result
    }
}
