import Glibc

/// The four primary entries of a master boot record, read as they are.
///
/// libblkid reports a disk with a protective MBR (an 0xEE entry) as GPT only, by design; a hybrid ISO's MBR
/// also carries the active entry strict BIOSes look for, and tools that check the medium need to see it.
public enum MBRTable {
    /// Reads the entries of the MBR at the start of `path`; empty when there is no 0x55AA signature.
    /// Unused (all-zero) entries are left out.
    /// - Throws: `BlkidError` (`.open`, `.probe`) naming `path` when it cannot be read.
    public static func read(_ path: String) throws(BlkidError) -> [ProbedPartition] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BlkidError.fromErrno(.open, path: path, fallback: "cannot open") }
        defer { close(fd) }
        var sector = [UInt8](repeating: 0, count: 512)
        let count = sector.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
        guard count >= 0 else { throw BlkidError.fromErrno(.probe, path: path, fallback: "cannot read the first sector") }
        guard count == 512 else { return [] }
        return parse(sector)
    }

    /// Parses a 512-byte sector.
    public static func parse(_ sector: [UInt8]) -> [ProbedPartition] {
        guard sector.count >= 512, sector[510] == 0x55, sector[511] == 0xAA else { return [] }
        func le32(_ at: Int) -> UInt64 { (0 ..< 4).reduce(0) { $0 | UInt64(sector[at + $1]) << (8 * $1) } }
        return (0 ..< 4).compactMap { index -> ProbedPartition? in
            let base = 446 + 16 * index
            let entry = sector[base ..< base + 16]
            guard entry.contains(where: { $0 != 0 }) else { return nil }
            return ProbedPartition(number: index + 1, start: le32(base + 8), size: le32(base + 12), mbrType: sector[base + 4],
                                   typeGUID: nil, uuid: nil, name: nil, flags: UInt64(sector[base]))
        }
    }
}
