import DeflateKit

/// CRC-32 as gzip and xz use it (reflected, polynomial 0xEDB88320), with zlib's combine operation; computed by
/// zlib (DeflateKit's `CRC32`).
///
/// Needed because libarchive 3.6 never checks a gzip trailer, and to recognise xz stream footers.
enum InitramfsCRC32 {
    /// Continues `crc` (0 for an empty input) over `bytes`.
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 { CRC32.update(crc, bytes) }

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

    /// The CRC of A followed by B, from A's and B's CRCs and B's length (zlib's crc32_combine).
    static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: Int64) -> UInt32 {
        CRC32.combine(crcA, crcB, lengthB: lengthB)
    }
}
