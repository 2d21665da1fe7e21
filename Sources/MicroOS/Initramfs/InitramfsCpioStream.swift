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
        chunk.bytes.withUnsafeBytes { raw in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[from ..< from + count]))
        }
        position += Int64(count)
        return count
    }

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
