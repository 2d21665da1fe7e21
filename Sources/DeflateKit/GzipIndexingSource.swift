import CZlib
import StreamKit

/// Inflates a gzip stream, as a `ByteSource` of its uncompressed bytes, and records its `DeflateIndex` on
/// the way: block boundaries, their CRCs and a checkpoint window every `checkpointSpacing` bytes.
///
/// zlib checks the member's CRC-32 and size. Several members are read one after the other (as gzip does),
/// but such a stream cannot be spliced; neither can one followed by anything but zero bytes (ignored, as
/// libarchive and gzip do).
public final class GzipIndexingSource: ByteSource {
    public let name: String
    /// Complete once `read` has returned 0.
    public private(set) var index = DeflateIndex()

    private let source: any ByteSource
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var inputRead: Int64 = 0
    private var member = 0
    private var finished = false
    private var spacing: Int64
    private var nextCheckpoint: Int64 = 0
    private let window = UnsafeMutablePointer<UInt8>.allocate(capacity: DeflateIndex.windowSize)

    /// True when `bytes` start like a gzip stream.
    public static func isGzip<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        bytes.count >= 3 && Array(bytes.prefix(3)) == [0x1F, 0x8B, 0x08]
    }

    public init(source: any ByteSource, name: String, checkpointSpacing: Int64 = 4 << 20) throws {
        self.source = source
        self.name = name
        self.spacing = max(checkpointSpacing, DeflateIndex.minimumBoundaryGap)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 1 << 20, alignment: 16)
        guard emts_inflate_init_gzip(stream) == Z_OK else {
            stream.deallocate()
            input.deallocate()
            window.deallocate()
            throw DeflateError(input: name, message: "zlib could not start inflating (out of memory)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
        window.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
        while stream.pointee.avail_out > 0, !finished {
            if stream.pointee.avail_in == 0 {
                let count = try source.read(into: input)
                if count == 0 {
                    throw DeflateError(input: name, message: "the gzip stream ends early, at byte \(inputRead)")
                }
                inputRead += Int64(count)
                stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = UInt32(count)
            }
            let code = inflate(stream, Z_BLOCK)
            switch code {
            case Z_OK, Z_BUF_ERROR:
                if member == 0 { recordBoundary() }
            case Z_STREAM_END:
                try endOfMember()
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                throw DeflateError(input: name, message: "damaged gzip stream near byte \(consumed): \(reason)")
            }
        }
        return buffer.count - Int(stream.pointee.avail_out)
    }

    /// Bytes of the gzip stream consumed so far.
    public var compressedBytesRead: Int64 { consumed }

    private var consumed: Int64 { inputRead - Int64(stream.pointee.avail_in) }

    private func recordBoundary() {
        let type = stream.pointee.data_type
        // 128: just after a block's end (or the header); 64: in the last block, whose end is not a boundary.
        guard type & 128 != 0, type & 64 == 0 else { return }
        let bit = consumed * 8 - Int64(type & 7)
        let offset = Int64(stream.pointee.total_out)
        if let last = index.boundaryBits.last, last == bit { return }
        guard index.addBoundary(bit: bit, offset: offset, crc: UInt32(truncatingIfNeeded: stream.pointee.adler))
        else { return }
        if offset >= nextCheckpoint {
            var length: UInt32 = 0
            inflateGetDictionary(stream, window, &length)
            index.addCheckpoint(DeflateIndex.Checkpoint(bit: bit, offset: offset,
                                                        window: Array(UnsafeBufferPointer(start: window, count: Int(length)))),
                                spacing: &spacing)
            nextCheckpoint = offset + spacing
        }
    }

    private func endOfMember() throws {
        if member == 0 {
            index.compressedBytes = consumed
            index.uncompressedBytes = Int64(stream.pointee.total_out)
            index.crc = UInt32(truncatingIfNeeded: stream.pointee.adler)
            index.isSpliceable = true
        }
        member += 1
        // What follows: nothing or zeros ends the stream; another member is read on; anything else is ignored.
        while true {
            if stream.pointee.avail_in == 0 {
                let count = try source.read(into: input)
                if count == 0 { finished = true; return }
                inputRead += Int64(count)
                stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = UInt32(count)
            }
            let next = UnsafeBufferPointer(start: stream.pointee.next_in, count: Int(stream.pointee.avail_in))
            guard let first = next.firstIndex(where: { $0 != 0 }) else {
                stream.pointee.avail_in = 0
                continue
            }
            index.isSpliceable = false
            stream.pointee.next_in += first
            stream.pointee.avail_in -= UInt32(first)
            if next[first] == 0x1F {
                // Another member: zlib reads (and checks) its header.
                inflateReset(stream)
                return
            }
            // Not a gzip member: ignore the rest, as gzip and libarchive do.
            while try source.read(into: input) > 0 {}
            stream.pointee.avail_in = 0
            finished = true
            return
        }
    }
}
