import CZlib

/// CRC-32 (IEEE, as gzip, zip and the "070702" cpio use) through zlib, whose braided implementation is many
/// times faster than a byte-at-a-time table.
public enum CRC32 {
    /// The CRC of what `crc` covered followed by `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return UInt32(truncatingIfNeeded: crc32_z(UInt(crc), base.assumingMemoryBound(to: Bytef.self), bytes.count))
    }

    /// The CRC of A followed by B, from the CRCs of both and B's length.
    public static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(crcA), UInt(crcB), Int(lengthB)))
    }
}
