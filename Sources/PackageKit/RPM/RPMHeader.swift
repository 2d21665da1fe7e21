/// One RPM header structure (the signature header or the main header): an index of typed entries pointing
/// into a data store.
///
/// Every index entry is checked against the store when the header is read (type known, offset inside,
/// `offset + count * size` inside without overflow, every string terminated inside), so the accessors
/// never read outside the store, whatever the file claims.
struct RPMHeader {
    /// rpm's `rpmTagType`.
    enum ValueType: UInt32 {
        case null = 0, char = 1, int8 = 2, int16 = 3, int32 = 4, int64 = 5
        case string = 6, binary = 7, stringArray = 8, i18nString = 9

        /// Bytes per element of a fixed-size type; nil for strings.
        var width: Int? {
            switch self {
            case .null: 0
            case .char, .int8, .binary: 1
            case .int16: 2
            case .int32: 4
            case .int64: 8
            case .string, .stringArray, .i18nString: nil
            }
        }

        var isInteger: Bool { self == .char || self == .int8 || self == .int16 || self == .int32 || self == .int64 }
    }

    struct Entry {
        var tag: Int32
        var type: ValueType
        var offset: Int
        var count: Int
    }

    /// Which header this is, in errors: "signature header", "main header".
    let role: String
    let path: String
    /// Where the header starts in the file.
    let fileOffset: Int64
    /// Bytes of the whole structure: 16-byte intro, index, store.
    let byteCount: Int64
    private let store: [UInt8]
    private let entries: [Int32: Entry]

    static let magic: [UInt8] = [0x8E, 0xAD, 0xE8, 0x01]
    static let introSize = 16
    static let entrySize = 16

    /// Reads and checks the header at `offset`; `maxEntries` and `maxStore` bound what it may claim (rpm's
    /// own limits) before anything is allocated.
    /// - Throws: `PackageError.truncated` when the file ends inside the header, `.corrupt` for a bad magic,
    ///   excessive sizes, or an index entry that does not fit the store.
    init(file: PackageFileHandle, at offset: Int64, role: String, maxEntries: Int, maxStore: Int) throws(PackageError) {
        self.role = role
        self.path = file.path
        self.fileOffset = offset
        let intro = try file.bytes(at: offset, count: Self.introSize, what: "the \(role) at byte \(offset)")
        guard Array(intro[0 ..< 4]) == Self.magic else {
            throw .corrupt(path: path, reason: "the \(role) at byte \(offset) has magic \(hex(intro[0 ..< 4])), expected 8e ad e8 01")
        }
        let entryCount = Int(bigEndian32(intro, 8))
        let storeSize = Int(bigEndian32(intro, 12))
        guard entryCount >= 1, entryCount <= maxEntries else {
            throw .corrupt(path: path, reason: "the \(role) claims \(entryCount) index entries (1 to \(maxEntries) allowed)")
        }
        guard storeSize <= maxStore else {
            throw .corrupt(path: path, reason: "the \(role) claims \(storeSize) bytes of data (at most \(maxStore) allowed)")
        }
        let indexSize = entryCount * Self.entrySize
        byteCount = Int64(Self.introSize + indexSize + storeSize)
        guard offset + byteCount <= file.size else {
            throw .truncated(path: path, reason: "the \(role) at byte \(offset) claims \(entryCount) index entries and "
                + "\(storeSize) bytes of data (\(byteCount) bytes), but the file ends after \(file.size)")
        }
        let index = try file.bytes(at: offset + Int64(Self.introSize), count: indexSize, what: "the \(role)'s index")
        store = try file.bytes(at: offset + Int64(Self.introSize + indexSize), count: storeSize, what: "the \(role)'s data")

        var entries: [Int32: Entry] = [:]
        for number in 0 ..< entryCount {
            let base = number * Self.entrySize
            let tag = Int32(bitPattern: bigEndian32(index, base))
            let rawType = bigEndian32(index, base + 4)
            let rawOffset = Int32(bitPattern: bigEndian32(index, base + 8))
            let count = Int(bigEndian32(index, base + 12))
            let place = "the \(role)'s index entry \(number) (tag \(tag))"
            guard let type = ValueType(rawValue: rawType) else {
                throw .corrupt(path: path, reason: "\(place) has unknown type \(rawType)")
            }
            guard rawOffset >= 0, Int(rawOffset) < max(storeSize, 1) else {
                throw .corrupt(path: path, reason: "\(place) points to byte \(rawOffset), outside its \(storeSize)-byte data store")
            }
            let entry = Entry(tag: tag, type: type, offset: Int(rawOffset), count: count)
            if let problem = Self.problem(with: entry, store: store) {
                throw .corrupt(path: path, reason: "\(place): \(problem)")
            }
            if entries[tag] == nil { entries[tag] = entry }
        }
        self.entries = entries
    }

    /// Why `entry` does not fit `store`, or nil when it does.
    private static func problem(with entry: Entry, store: [UInt8]) -> String? {
        let available = store.count - entry.offset
        if let width = entry.type.width {
            let (length, overflow) = entry.count.multipliedReportingOverflow(by: width)
            guard !overflow, length <= available else {
                return "\(entry.count) values of \(width) bytes from byte \(entry.offset) overflow the \(store.count)-byte data store"
            }
            return nil
        }
        if entry.type == .string, entry.count != 1 { return "a string with count \(entry.count)" }
        // Each string takes at least its NUL byte: more strings than bytes cannot fit.
        guard entry.count <= available else {
            return "\(entry.count) strings cannot fit in the \(available) bytes after byte \(entry.offset)"
        }
        var position = entry.offset
        for _ in 0 ..< entry.count {
            guard let end = store[position...].firstIndex(of: 0) else {
                return "a string from byte \(position) runs past the end of the data store"
            }
            position = end + 1
        }
        return nil
    }

    func contains(_ tag: RPMTag) -> Bool { entries[tag.rawValue] != nil }

    /// The first string of `tag` (a STRING, or the first of a STRING_ARRAY or I18NSTRING), nil when absent.
    func string(_ tag: RPMTag) throws(PackageError) -> String? {
        guard let entry = entries[tag.rawValue] else { return nil }
        guard entry.type == .string || entry.type == .stringArray || entry.type == .i18nString else {
            throw mismatch(tag, entry, expected: "a string")
        }
        return strings(of: entry).first
    }

    /// All strings of `tag`, nil when absent.
    func strings(_ tag: RPMTag) throws(PackageError) -> [String]? {
        guard let entry = entries[tag.rawValue] else { return nil }
        guard entry.type == .stringArray || entry.type == .string || entry.type == .i18nString else {
            throw mismatch(tag, entry, expected: "strings")
        }
        return entry.type == .i18nString ? Array(strings(of: entry).prefix(1)) : strings(of: entry)
    }

    /// All integers of `tag` (unsigned, widened), nil when absent.
    func integers(_ tag: RPMTag) throws(PackageError) -> [Int64]? {
        try integers(tagNumber: tag.rawValue, name: tag.description)
    }

    /// Integers of a tag given by number (the signature header's tags).
    func integers(tagNumber: Int32, name: String) throws(PackageError) -> [Int64]? {
        guard let entry = entries[tagNumber] else { return nil }
        guard entry.type.isInteger, let width = entry.type.width else {
            throw .corrupt(path: path, reason: "the \(role)'s tag \(name) has type \(entry.type), expected integers")
        }
        return (0 ..< entry.count).map { index in
            var value: UInt64 = 0
            let start = entry.offset + index * width
            for byte in store[start ..< start + width] { value = value << 8 | UInt64(byte) }
            return Int64(bitPattern: value)
        }
    }

    private func strings(of entry: Entry) -> [String] {
        var result: [String] = []
        var position = entry.offset
        for _ in 0 ..< entry.count {
            // Checked when the header was read: every string ends inside the store.
            guard let end = store[position...].firstIndex(of: 0) else { break }
            result.append(String(decoding: store[position ..< end], as: UTF8.self))
            position = end + 1
        }
        return result
    }

    private func mismatch(_ tag: RPMTag, _ entry: Entry, expected: String) -> PackageError {
        .corrupt(path: path, reason: "the \(role)'s tag \(tag) has type \(entry.type), expected \(expected)")
    }
}

/// The big-endian 32-bit value at `index` (callers check the bounds).
func bigEndian32(_ bytes: [UInt8], _ index: Int) -> UInt32 {
    UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
}

/// Bytes as "8e ad e8 01", for messages about unexpected magic.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}
