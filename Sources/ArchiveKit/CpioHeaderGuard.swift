/// A cpio header refused before libarchive's cpio reader parsed it.
///
/// libarchive reads an entry's name, and a symlink's target, with one read-ahead of the size the 110-byte newc
/// header declares, allocating a buffer that large first: a header declaring a 4 GiB name made it allocate
/// 4 GiB (found by fuzz/, FuzzInitramfs and FuzzRPM). The kernel (init/initramfs.c) and rpm read names and
/// symlink targets of at most PATH_MAX bytes, so a longer one is refused here, from its header.
public struct CpioHeaderError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Problem: Sendable, Equatable {
        /// The header declares a name longer than PATH_MAX.
        case nameTooLong(UInt64)
        /// A symlink's header declares a target longer than PATH_MAX.
        case symlinkTargetTooLong(UInt64)
        /// Where the previous entry ends there is no newc header (libarchive would skip ahead to the next one).
        case damagedHeader(String)
        /// A cpio flavour other than newc (odc, afio, binary): the kernel and rpm read only newc.
        case unsupportedVariant(String)
    }

    /// The archive (its name in errors).
    public var input: String
    /// The entry's index in the archive (0 for the first header).
    public var entry: Int
    /// Where the header starts in the uncompressed cpio stream.
    public var offset: Int64
    public var problem: Problem

    public init(input: String, entry: Int, offset: Int64, problem: Problem) {
        self.input = input
        self.entry = entry
        self.offset = offset
        self.problem = problem
    }

    /// The explanation without the input's name.
    public var message: String {
        let header = "the header of cpio entry \(entry) (at byte \(offset) of the uncompressed archive)"
        switch problem {
        case .nameTooLong(let size):
            return "\(header) declares a \(size)-byte name, longer than the \(CpioHeaderGuard.pathMax) bytes (PATH_MAX) "
                + "the kernel and rpm unpack"
        case .symlinkTargetTooLong(let size):
            return "\(header) is a symlink that declares a \(size)-byte target, longer than the "
                + "\(CpioHeaderGuard.pathMax) bytes (PATH_MAX) the kernel and rpm unpack"
        case .damagedHeader(let detail):
            return "\(header) is damaged: \(detail)"
        case .unsupportedVariant(let flavour):
            return "unsupported cpio flavour: \(flavour); only newc (\"070701\" or \"070702\") is read"
        }
    }

    public var description: String { "\(input): \(message)" }
}

/// The uncompressed bytes of a newc cpio archive on their way to libarchive's cpio reader: each header is
/// checked as its bytes pass, before the reader can see it (a header split across reads is collected first).
/// A read hands out the bytes before a refused header; the next read throws the refusal, so the entries before
/// it are read as usual and the error comes where the reader reaches the header.
///
/// Headers are followed exactly as libarchive follows them (each entry takes its 110-byte header, the name
/// padded so that the header and name end on a multiple of 4, then the data padded to 4), up to the trailer.
/// Where the previous entry ends there must be a newc header: "070701" or "070702" and 104 more hex digits.
/// libarchive would skip ahead to the next thing that looks like one ("Skipped N bytes before finding valid
/// header"), which neither the kernel nor rpm does; following its search would mean mirroring its scan, so
/// damage is refused here instead. A stream that does not start with a cpio magic at all passes unchecked (when
/// tar formats are read too, it is not a cpio; libarchive's cpio reader does not take it).
final class CpioHeaderGuard: ByteSource {
    /// The kernel's PATH_MAX: the longest name, and symlink target, it unpacks.
    static let pathMax: UInt64 = 4096
    static let headerSize = 110

    private let upstream: any ByteSource
    private let input: String
    /// Bytes handed out so far.
    private var offset: Int64 = 0
    /// Offset of the next header, nil once headers are no longer followed (after the trailer, or not a cpio).
    private var next: Int64? = 0
    /// The next header's bytes collected so far, and how many it takes (the magic, the fixed part, then with a
    /// name that may be the trailer's).
    private var header: [UInt8] = []
    private var wanted = 6
    private var entries = 0
    /// The current header's symlink flag and data size, between its fixed part and its name.
    private var pending: (symlink: Bool, size: UInt64, nameSize: UInt64) = (false, 0, 0)

    init(_ upstream: any ByteSource, input: String) {
        self.upstream = upstream
        self.input = input
        header.reserveCapacity(Self.headerSize + 11)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failure { throw failure }
        var count = try upstream.read(into: buffer)
        if count > 0, next != nil {
            do {
                try check(UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
            } catch let refusal as CpioHeaderError {
                // Every later read fails too: nothing after a refused header passes unchecked.
                failure = refusal
                // The entries before the bad header are handed out; reading on into it fails.
                guard refusal.offset > offset else { throw refusal }
                count = Int(refusal.offset - offset)
            }
        }
        offset += Int64(count)
        return count
    }

    /// A header refused after the bytes before it were handed out: what the next read throws.
    private var failure: CpioHeaderError?

    /// Takes the bytes about to be handed out at `offset`; throws before a bad header leaves.
    private func check(_ bytes: UnsafeRawBufferPointer) throws {
        let end = offset + Int64(bytes.count)
        while let start = next {
            let from = start + Int64(header.count)
            guard from < end else { return }
            let index = Int(from - offset)
            let take = min(wanted - header.count, bytes.count - index)
            header.append(contentsOf: bytes[index ..< index + take])
            guard header.count == wanted else { return }
            try parse(at: start)
        }
    }

    private func parse(at start: Int64) throws {
        switch header.count {
        case 6:
            // The first magic says whether this is a cpio at all, and which flavour (libarchive's bid reads 6 bytes).
            if header.starts(with: Self.newcPrefix), header[5] == 0x31 || header[5] == 0x32 {
                wanted = Self.headerSize
            } else if entries == 0, let flavour = Self.otherFlavour(header) {
                throw refusal(start, .unsupportedVariant(flavour))
            } else if entries == 0 {
                next = nil  // not a cpio: another format's reader takes it (or none does)
            } else {
                throw refusal(start, .damagedHeader("it starts with \(Self.describe(header)), not a newc magic"))
            }
        case Self.headerSize:
            if let bad = header.firstIndex(where: { Self.hexValue($0) == nil }) {
                throw refusal(start, .damagedHeader("byte \(bad) of the header is \(Self.describe([header[bad]])), "
                    + "not a hex digit"))
            }
            let mode = field(1), size = field(6), nameSize = field(11)
            let symlink = mode & 0o170000 == 0o120000
            guard nameSize <= Self.pathMax else { throw refusal(start, .nameTooLong(nameSize)) }
            if symlink, size > Self.pathMax { throw refusal(start, .symlinkTargetTooLong(size)) }
            pending = (symlink, size, nameSize)
            // Only an 11-byte name can be the trailer's: collect it to know whether the archive ends there.
            if nameSize == 11 { wanted = Self.headerSize + 11 } else { advance(from: start) }
        default:
            // The trailer ends the archive: libarchive reads no further header. A symlink named TRAILER!!! is
            // followed on (libarchive versions differ on whether it ends the archive; following on is safe).
            if header[Self.headerSize...].elementsEqual(Self.trailer), !pending.symlink {
                next = nil
                entries += 1
            } else {
                advance(from: start)
            }
        }
    }

    /// Moves on to the header after the current entry: 110 bytes and the name padded to 4, the data padded to 4.
    private func advance(from start: Int64) {
        func aligned(_ value: UInt64) -> Int64 { Int64((value + 3) & ~3) }
        next = start + aligned(UInt64(Self.headerSize) + pending.nameSize) + aligned(pending.size)
        entries += 1
        header.removeAll(keepingCapacity: true)
        wanted = 6
    }

    private func refusal(_ start: Int64, _ problem: CpioHeaderError.Problem) -> CpioHeaderError {
        next = nil
        return CpioHeaderError(input: input, entry: entries, offset: start, problem: problem)
    }

    /// The 8-hex-digit field `index` after the magic (the header is all hex by now).
    private func field(_ index: Int) -> UInt64 {
        let from = 6 + index * 8
        var value: UInt64 = 0
        for byte in header[from ..< from + 8] { value = value << 4 | UInt64(Self.hexValue(byte) ?? 0) }
        return value
    }

    private static let newcPrefix = Array("07070".utf8)
    private static let trailer = Array("TRAILER!!!\0".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30 ... 0x39: byte - 0x30
        case 0x41 ... 0x46: byte - 0x41 + 10
        case 0x61 ... 0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// The cpio flavours libarchive's cpio reader takes besides newc, by their first bytes.
    private static func otherFlavour(_ head: [UInt8]) -> String? {
        if head.starts(with: Array("070707".utf8)) { return "portable ASCII cpio (odc, magic \"070707\")" }
        if head.starts(with: Array("070727".utf8)) { return "afio large ASCII cpio (magic \"070727\")" }
        if head.starts(with: [0x71, 0xC7]) || head.starts(with: [0xC7, 0x71]) {
            return "old binary cpio (magic 070707 as a 16-bit word)"
        }
        return nil
    }

    private static func describe(_ bytes: [UInt8]) -> String {
        let text = bytes.map { byte in
            (0x20 ..< 0x7F).contains(byte) && byte != 0x22 && byte != 0x5C ? String(UnicodeScalar(byte))
                : "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        return "\"\(text)\""
    }
}
