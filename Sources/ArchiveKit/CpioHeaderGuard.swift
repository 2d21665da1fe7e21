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
            if header.isEmpty, bytes.count - index >= Self.headerSize + 11 {
                // The usual case: the header (and an 11-byte name) lie in this read, checked where they are.
                try parse(UnsafeRawBufferPointer(rebasing: bytes[index ..< index + Self.headerSize + 11]), at: start)
                continue
            }
            // Split across reads: collected until the next step can be taken.
            let take = min(wanted - header.count, bytes.count - index)
            header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index ..< index + take]))
            guard header.count == wanted else { return }
            let collected = header
            try collected.withUnsafeBytes { try parse($0, at: start) }
        }
    }

    /// Checks the header at `start` from its first `bytes` (6: the magic; 110: the fixed part; 121: with an
    /// 11-byte name): as far as they go, asking for more (`wanted`) when they do not reach the decision.
    private func parse(_ bytes: UnsafeRawBufferPointer, at start: Int64) throws {
        // The first magic says whether this is a cpio at all, and which flavour (libarchive's bid reads 6 bytes).
        let newc = bytes[0] == 0x30 && bytes[1] == 0x37 && bytes[2] == 0x30 && bytes[3] == 0x37 && bytes[4] == 0x30
            && (bytes[5] == 0x31 || bytes[5] == 0x32)
        guard newc else {
            let head = Array(bytes[0 ..< 6])
            if entries == 0, let flavour = Self.otherFlavour(head) { throw refusal(start, .unsupportedVariant(flavour)) }
            guard entries > 0 else {
                next = nil  // not a cpio: another format's reader takes it (or none does)
                return
            }
            throw refusal(start, .damagedHeader("it starts with \(Self.describe(head)), not a newc magic"))
        }
        guard bytes.count >= Self.headerSize else {
            wanted = Self.headerSize
            return
        }
        var fields = (mode: UInt64(0), size: UInt64(0), nameSize: UInt64(0))
        for field in 0 ..< 13 {
            var value: UInt64 = 0
            for at in 6 + field * 8 ..< 14 + field * 8 {
                guard let digit = Self.hexValue(bytes[at]) else {
                    throw refusal(start, .damagedHeader("byte \(at) of the header is \(Self.describe([bytes[at]])), "
                        + "not a hex digit"))
                }
                value = value << 4 | UInt64(digit)
            }
            switch field {
            case 1: fields.mode = value
            case 6: fields.size = value
            case 11: fields.nameSize = value
            default: break
            }
        }
        let symlink = fields.mode & 0o170000 == 0o120000
        guard fields.nameSize <= Self.pathMax else { throw refusal(start, .nameTooLong(fields.nameSize)) }
        if symlink, fields.size > Self.pathMax { throw refusal(start, .symlinkTargetTooLong(fields.size)) }
        pending = (symlink, fields.size, fields.nameSize)
        // Only an 11-byte name can be the trailer's: it is needed to know whether the archive ends there.
        guard fields.nameSize == 11 else { return advance(from: start) }
        guard bytes.count >= Self.headerSize + 11 else {
            wanted = Self.headerSize + 11
            return
        }
        // The trailer ends the archive: libarchive reads no further header. A symlink named TRAILER!!! is
        // followed on (libarchive versions differ on whether it ends the archive; following on is safe).
        if !symlink, bytes[Self.headerSize ..< Self.headerSize + 11].elementsEqual(Self.trailer) {
            next = nil
            entries += 1
            header.removeAll(keepingCapacity: true)
        } else {
            advance(from: start)
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
