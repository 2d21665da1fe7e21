import ArchiveKit

/// The cpio bytes of one segment (the file itself, or a decompressor's output), handed to one cpio reader
/// after another.
///
/// libarchive's cpio reader stops at TRAILER!!! but has read ahead past it; it reports exactly how many bytes
/// it consumed, and the stream rewinds to that point so the next archive (or the padding) is seen whole.
/// Recent chunks are kept for that rewind; older ones are dropped, so memory stays bounded.
final class InitramfsCpioStream: ByteSource {
    private struct Chunk {
        var start: Int64
        var bytes: [UInt8]
        /// CRC32 of the stream before this chunk.
        var crcBefore: UInt32
        var end: Int64 { start + Int64(bytes.count) }
    }

    private let upstream: any ByteSource
    private let checksummed: Bool
    private let chunkSize: Int
    private let retained: Int64
    private let limit: Int64
    private var chunks: [Chunk] = []
    /// Offset of the next byte handed out.
    private(set) var position: Int64 = 0
    /// Bytes pulled from upstream so far.
    private(set) var pulled: Int64 = 0
    /// CRC32 of everything pulled so far (when checksummed).
    private(set) var crc: UInt32 = 0
    /// Whether upstream has reported its end.
    private(set) var atEnd = false
    /// What upstream threw, if it did: a decompression failure rather than a cpio one.
    private(set) var upstreamFailure: (any Error)?

    /// `retained` bytes before the current position stay available to `rewind(to:)`; `checksummed` keeps a
    /// running CRC32 of the stream (gzip trailers are checked against it).
    /// Pulling more than `limit` bytes from upstream throws `LimitReached` (a decompression bomb stops there).
    init(_ upstream: any ByteSource, checksummed: Bool = false, chunkSize: Int = 256 << 10, retained: Int64 = 4 << 20,
         limit: Int64 = .max) {
        self.upstream = upstream
        self.limit = limit
        self.checksummed = checksummed
        self.chunkSize = chunkSize
        self.retained = retained
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if position == pulled, try !pull() { return 0 }
        guard let index = chunks.lastIndex(where: { $0.start <= position }) else { return 0 }
        let chunk = chunks[index]
        let from = Int(position - chunk.start)
        let count = min(buffer.count, chunk.bytes.count - from)
        try headers.check(chunk.bytes[from ..< from + count], at: position)
        chunk.bytes.withUnsafeBytes { raw in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[from ..< from + count]))
        }
        position += Int64(count)
        return count
    }

    /// The newc headers of the archive the cpio reader is about to read from `offset` on are checked as their
    /// bytes are handed out (see `NewcHeaderCheck`).
    func expectArchive(at offset: Int64) {
        headers = NewcHeaderCheck(next: offset)
    }

    private var headers = NewcHeaderCheck(next: nil)

    /// Moves back (or forward, within what was pulled) to `offset`.
    /// - Returns: false when that part of the stream is no longer retained.
    func rewind(to offset: Int64) -> Bool {
        guard offset <= pulled, offset >= (chunks.first?.start ?? pulled) else { return false }
        position = offset
        return true
    }

    /// Up to `count` bytes from the current position, without consuming them.
    func peek(_ count: Int) throws -> [UInt8] {
        while pulled - position < Int64(count), try pull() {}
        var result: [UInt8] = []
        var offset = position
        for chunk in chunks where chunk.end > offset && result.count < count {
            let from = Int(offset - chunk.start)
            let take = min(count - result.count, chunk.bytes.count - from)
            result.append(contentsOf: chunk.bytes[from ..< from + take])
            offset += Int64(take)
        }
        return result
    }

    /// Consumes zero bytes from the current position; returns how many.
    func skipZeros() throws -> Int64 {
        let start = position
        while true {
            if position == pulled, try !pull() { break }
            guard let chunk = chunks.last(where: { $0.start <= position }) else { break }
            let from = Int(position - chunk.start)
            if let nonZero = chunk.bytes[from...].firstIndex(where: { $0 != 0 }) {
                position = chunk.start + Int64(nonZero)
                break
            }
            position = chunk.end
        }
        return position - start
    }

    /// CRC32 of the stream's first `offset` bytes, when checksummed and the offset is still retained.
    func crc(upTo offset: Int64) -> UInt32? {
        guard checksummed else { return nil }
        if offset == pulled { return crc }
        guard let chunk = chunks.last(where: { $0.start <= offset }), offset < chunk.end else { return nil }
        return chunk.bytes.withUnsafeBytes { InitramfsCRC32.update(chunk.crcBefore, UnsafeRawBufferPointer(rebasing: $0[0 ..< Int(offset - chunk.start)])) }
    }

    /// The stream went past its limit.
    struct LimitReached: Error {}

    /// Reads the next chunk from upstream; false at its end.
    private func pull() throws -> Bool {
        guard !atEnd else { return false }
        var bytes = [UInt8](repeating: 0, count: chunkSize)
        let count: Int
        do {
            count = try bytes.withUnsafeMutableBytes { try upstream.read(into: $0) }
        } catch {
            upstreamFailure = error
            throw error
        }
        guard count > 0 else {
            atEnd = true
            return false
        }
        bytes.removeLast(chunkSize - count)
        guard Int64(count) <= limit - pulled else { throw LimitReached() }
        let crcBefore = crc
        if checksummed { crc = bytes.withUnsafeBytes { InitramfsCRC32.update(crc, $0) } }
        chunks.append(Chunk(start: pulled, bytes: bytes, crcBefore: crcBefore))
        pulled += Int64(count)
        while chunks.count > 2, chunks[0].end + retained <= position { chunks.removeFirst() }
        return true
    }
}

/// Checks newc headers before libarchive parses them. libarchive reads an entry's name, and a symlink's target,
/// with one read-ahead of the size the header declares, allocating a buffer that large first: a 110-byte
/// header declaring a 4 GiB name made it allocate 4 GiB (and fill it from a decompression bomb). The kernel
/// skips entries whose name or symlink target exceeds PATH_MAX (init/initramfs.c); such an entry is refused
/// here, by the stream, when the bytes of its header are handed out, before the cpio reader sees them.
struct NewcHeaderCheck {
    /// The kernel's PATH_MAX: the longest name, and symlink target, it unpacks.
    static let pathMax: UInt64 = 4096
    static let headerSize = 110

    /// A header that asks for more than the kernel would read.
    struct Oversized: Error, CustomStringConvertible {
        var description: String
    }

    /// Stream offset of the next header, nil once the headers are no longer followed (after the trailer).
    private var next: Int64?
    /// The bytes of the next header collected so far, and how many it takes (the fixed part, then with the name).
    private var header: [UInt8] = []
    private var wanted = NewcHeaderCheck.headerSize
    /// Where to look for the next header after damage, nil while headers are followed.
    private var searchFrom: Int64?

    init(next: Int64?) {
        self.next = next
    }

    /// Takes the bytes handed out at `offset` (in order; bytes before the next header are passed over).
    mutating func check(_ bytes: ArraySlice<UInt8>, at offset: Int64) throws {
        let end = offset + Int64(bytes.count)
        while true {
            if let from = searchFrom {
                // After damage libarchive looks for the next header; so does this check (within one read).
                let begin = max(from, offset)
                guard begin < end else { return }
                let slice = bytes[(bytes.startIndex + Int(begin - offset))...]
                guard let found = slice.indices.first(where: { at in
                    at + 5 < slice.endIndex && slice[at ..< at + 5].elementsEqual("07070".utf8)
                        && (slice[at + 5] == 0x31 || slice[at + 5] == 0x32)
                }) else {
                    searchFrom = end
                    return
                }
                searchFrom = nil
                next = offset + Int64(found - bytes.startIndex)
            }
            guard let start = next, start + Int64(header.count) < end else { return }
            let from = start + Int64(header.count)
            // Handed out again after a rewind behind the header: already checked.
            guard from >= offset else { return }
            let take = min(wanted - header.count, Int(end - from))
            let index = bytes.startIndex + Int(from - offset)
            header.append(contentsOf: bytes[index ..< index + take])
            guard header.count == wanted else { return }
            try parse(at: start)
        }
    }

    private mutating func parse(at start: Int64) throws {
        guard header.starts(with: Array("070701".utf8)) || header.starts(with: Array("070702".utf8)),
              let mode = field(1), let size = field(6), let nameSize = field(11) else {
            // No header where the previous entry ends: libarchive skips ahead to the next one it finds.
            next = nil
            searchFrom = start + 1
            header = []
            wanted = Self.headerSize
            return
        }
        guard nameSize <= Self.pathMax else {
            throw Oversized(description: "the entry header at byte \(start) declares a \(nameSize)-byte name, longer "
                + "than the \(Self.pathMax) bytes (PATH_MAX) the kernel unpacks")
        }
        if mode & 0o170000 == 0o120000, size > Self.pathMax {
            throw Oversized(description: "the symlink header at byte \(start) declares a \(size)-byte target, longer "
                + "than the \(Self.pathMax) bytes (PATH_MAX) the kernel unpacks")
        }
        if header.count == Self.headerSize, nameSize > 0 {
            wanted = Self.headerSize + Int(nameSize)  // the name too: the trailer ends the archive
            return
        }
        let isTrailer = header.count > Self.headerSize && header[Self.headerSize...].starts(with: Array("TRAILER!!!\0".utf8))
        func aligned(_ value: Int64) -> Int64 { (value + 3) & ~3 }
        next = isTrailer ? nil : start + aligned(Int64(Self.headerSize) + Int64(nameSize)) + aligned(Int64(size))
        header = []
        wanted = Self.headerSize
    }

    /// The 8-hex-digit field `index` after the magic; nil when it is not hex (libarchive reports that).
    private func field(_ index: Int) -> UInt64? {
        let from = 6 + index * 8
        var value: UInt64 = 0
        for byte in header[from ..< from + 8] {
            guard let digit = hexDigit(byte) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    private func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30 ... 0x39: byte - 0x30
        case 0x41 ... 0x46: byte - 0x41 + 10
        case 0x61 ... 0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
