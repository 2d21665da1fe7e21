/// The raw ISO 9660 bytes of an image written by ISOKit, to aim damage at its descriptors, directory records and
/// Rock Ridge entries (HostileISOTests, FuzzISORegression).
struct RawISO: CustomStringConvertible {
    var description: String { "RawISO(\(bytes.count) bytes)" }

    var bytes: [UInt8]

    struct Record {
        var offset: Int
        var extent: UInt32
        var size: UInt32
        var isDirectory: Bool
        var name: [UInt8]
    }

    func le32(_ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    /// Writes `value` at `at` in both byte orders (ISO 9660's both-endian fields).
    mutating func setBoth(_ at: Int, _ value: UInt32) {
        for index in 0 ..< 4 {
            bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
            bytes[at + 4 + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index))
        }
    }

    /// Points `record` at `extent`, with `size`.
    mutating func point(_ record: Record, at extent: UInt32, size: UInt32) {
        setBoth(record.offset + 2, extent)
        setBoth(record.offset + 10, size)
    }

    /// The block of the first volume descriptor of `type` (1 primary, 2 supplementary, 255 the terminator).
    func descriptor(type: UInt8) -> Int? {
        (16 ..< 32).first { bytes[$0 * 2048] == type }
    }

    /// The root directory record of the first volume descriptor of `type`.
    func root(type: UInt8) -> Record? {
        descriptor(type: type).map { record(at: $0 * 2048 + 156) }
    }

    func record(at offset: Int) -> Record {
        let nameLength = Int(bytes[offset + 32])
        return Record(offset: offset, extent: le32(offset + 2), size: le32(offset + 10),
                      isDirectory: bytes[offset + 25] & 2 != 0, name: Array(bytes[offset + 33 ..< offset + 33 + nameLength]))
    }

    /// The records of a directory, "." and ".." first.
    func records(of directory: Record) -> [Record] {
        var result: [Record] = []
        var offset = Int(directory.extent) * 2048
        let end = offset + Int(directory.size)
        while offset < end {
            if bytes[offset] == 0 {
                offset = (offset / 2048 + 1) * 2048
                continue
            }
            result.append(record(at: offset))
            offset += Int(bytes[offset])
        }
        return result
    }

    /// The record named `name` (ISO 9660 names without ";1"; Joliet names in UCS-2) in `directory`.
    func child(_ name: String, of directory: Record, joliet: Bool = false) -> Record? {
        let wanted = joliet ? name.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } : Array(name.utf8)
        return records(of: directory).first {
            $0.name == wanted || $0.name == wanted + Array(";1".utf8) || $0.name == wanted + Array(".;1".utf8)
        }
    }

    /// Every directory below `root`, in the order the check walks them (depth first, in record order).
    func directories(below root: Record) -> [Record] {
        var result: [Record] = []
        var pending = [root]
        while let next = pending.popLast() {
            let children = records(of: next).dropFirst(2).filter(\.isDirectory)
            pending += children.reversed()
            if next.offset != root.offset { result.append(next) }
        }
        return result
    }

    /// The offset of the Rock Ridge entry `signature` in `record`'s System Use field.
    func entry(_ signature: String, in record: Record) -> Int? {
        let sig = Array(signature.utf8)
        let end = record.offset + Int(bytes[record.offset])
        var at = record.offset + 33 + record.name.count + (record.name.count % 2 == 0 ? 1 : 0)
        while at + 4 <= end, bytes[at + 2] >= 4 {
            if bytes[at] == sig[0] && bytes[at + 1] == sig[1] { return at }
            at += Int(bytes[at + 2])
        }
        return nil
    }
}
