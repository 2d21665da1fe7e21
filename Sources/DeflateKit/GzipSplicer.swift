import CZlib
import StreamKit

/// Writes an edited copy of a gzip stream without recompressing what the edit leaves alone.
///
/// The edit: byte ranges of the uncompressed stream are removed, everything from `keep` on is replaced by
/// what is written to the splicer afterwards (`write`, then `finish`). Deflate blocks that lie wholly outside
/// the edit, and whose back-references (up to 32 KiB) cannot reach into it, are copied bit for bit from the
/// original, at the same bit phase within a byte (an empty block of the right length gets there: stored blocks
/// depend on their byte alignment). Only the blocks around each removal and from the last boundary before `keep`
/// on are inflated (from the nearest checkpoint of the `DeflateIndex`) and deflated again, with the 32 KiB that
/// precede them in the output as the dictionary. A recompressed run ends with a sync flush (byte aligned); an
/// empty stored block aligns the output before one. The CRC-32 of copied runs
/// comes from the index's boundary CRCs (`crc32_combine`), so the copied data is never inflated again.
///
/// Use: `copy(from:)` with the original gzip stream (the one that was indexed), then `write` the new end,
/// then `finish()`.
public final class GzipSplicer: ByteSink {
    private struct Region {
        var start: Int64
        var startBit: Int64
        var startBoundary: Int
        /// nil: the last region, which runs to `keep` and then takes what is written.
        var end: Int64?
        var endBit: Int64
        var endBoundary: Int
        var checkpoint: DeflateIndex.Checkpoint
    }

    private enum Progress { case needInput, regionDone, tailReached }

    public let name: String
    private let index: DeflateIndex
    private let removed: [Range<Int64>]
    private let keep: Int64
    private let level: Int32
    private let writer: BitWriter
    private let regions: [Region]

    // The copier: copies original bits up to the next region, then waits for its recompressed run.
    private var region = 0
    private var copyBit: Int64
    private var copyFromBoundary = 0
    private var regionOpen = false

    // The inflater: inflates from a checkpoint through the regions, feeding their kept bytes to the deflater.
    private var inflater: UnsafeMutablePointer<z_stream>?
    private var inflaterRegion = 0
    private var inflaterInput: Int64 = 0
    private var inflaterOutput: Int64 = 0
    private let inflated: UnsafeMutableRawBufferPointer
    private var pending = 0 ..< 0
    private var inflaterEnded = false
    private var history: [UInt8] = []
    private var removedCursor = 0

    private var deflater: UnsafeMutablePointer<z_stream>?
    private let deflated: UnsafeMutableRawBufferPointer

    private var tailReached = false
    private var tailDictionary: [UInt8] = []
    /// Pieces compressed elsewhere were appended: the end takes no more `write`s.
    private var appending = false
    private var finished = false
    private var outputCRC: UInt32 = 0
    private var outputBytes: Int64 = 0
    private var trailer: [UInt8] = []
    /// Bytes of the original stream read by `copy(from:)`.
    public private(set) var bytesRead: Int64 = 0
    /// Uncompressed bytes inflated again (around the edits), and deflated.
    public private(set) var bytesInflated: Int64 = 0
    public private(set) var bytesDeflated: Int64 = 0

    /// - Parameters:
    ///   - index: the original's index (`GzipIndexingSource.index`); it must be spliceable.
    ///   - removed: uncompressed byte ranges to leave out, all below `keep`.
    ///   - keep: the original's bytes from here on are dropped.
    ///   - level: zlib level for the recompressed runs.
    ///   - sink: receives the new gzip stream.
    public init(index: DeflateIndex, removing removed: [Range<Int64>], keepingUpTo keep: Int64, level: Int32 = 6,
                into sink: any ByteSink, name: String) throws {
        guard index.isSpliceable, index.boundaryOffsets.first == 0, !index.checkpoints.isEmpty else {
            throw DeflateError(input: name, message: "the gzip stream cannot be spliced (not one indexed member)")
        }
        guard keep >= 0, keep <= index.uncompressedBytes else {
            throw DeflateError(input: name, message: "cut at \(keep) is outside the stream (\(index.uncompressedBytes) bytes)")
        }
        let sorted = removed.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.lowerBound < previous.upperBound {
            throw DeflateError(input: name, message: "removed ranges \(previous) and \(next) overlap")
        }
        if let last = sorted.last, last.upperBound > keep || sorted[0].lowerBound < 0 {
            throw DeflateError(input: name, message: "removed range \(last) is outside 0..<\(keep)")
        }
        self.index = index
        self.removed = sorted
        self.keep = keep
        self.level = level
        self.name = name
        writer = BitWriter(sink: sink)
        regions = Self.regions(index: index, removed: sorted, keep: keep)
        copyBit = index.boundaryBits[0]
        inflated = .allocate(byteCount: 256 << 10, alignment: 16)
        deflated = .allocate(byteCount: 256 << 10, alignment: 16)
        // A fresh header: no name, no time (reproducible), OS Unix.
        try writer.write([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03])
    }

    deinit {
        endInflater()
        if let deflater {
            deflateEnd(deflater)
            deflater.deallocate()
        }
        inflated.deallocate()
        deflated.deallocate()
    }

    /// The runs to recompress: from the boundary before each removal to the first boundary 32 KiB past it,
    /// and from the boundary before `keep` to the end; overlapping runs merged.
    private static func regions(index: DeflateIndex, removed: [Range<Int64>], keep: Int64) -> [Region] {
        var spans: [(start: Int, end: Int?)] = removed.map { range in
            (index.boundary(atOrBefore: range.lowerBound),
             index.boundary(atOrAfter: range.upperBound + Int64(DeflateIndex.windowSize)))
        }
        spans.append((index.boundary(atOrBefore: keep), nil))
        spans.sort { $0.start < $1.start }
        var merged: [(start: Int, end: Int?)] = []
        for span in spans {
            if let last = merged.last, last.end.map({ span.start <= $0 }) ?? true {
                let end: Int? = if let a = last.end, let b = span.end { max(a, b) } else { nil }
                merged[merged.count - 1].end = end
            } else {
                merged.append(span)
            }
        }
        return merged.map { span in
            let start = index.boundaryOffsets[span.start]
            return Region(start: start, startBit: index.boundaryBits[span.start], startBoundary: span.start,
                          end: span.end.map { index.boundaryOffsets[$0] },
                          endBit: span.end.map { index.boundaryBits[$0] } ?? 0, endBoundary: span.end ?? 0,
                          checkpoint: index.checkpoint(atOrBefore: start))
        }
    }

    /// Number of runs recompressed (the last one included).
    public var recompressedRuns: Int { regions.count }

    /// Reads the original gzip stream (the one `index` describes) to its end and writes the new stream up to
    /// `keep`. The stream's trailer must match the index: a stream that changed since it was indexed is
    /// refused.
    public func copy(from source: any ByteSource, progress: ((Int64) -> Void)? = nil) throws {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = try source.read(into: chunk)
            if count == 0 { break }
            let start = bytesRead
            bytesRead += Int64(count)
            captureTrailer(UnsafeRawBufferPointer(rebasing: chunk[0 ..< count]), at: start)
            try process(UnsafeRawBufferPointer(rebasing: chunk[0 ..< count]), at: start)
            progress?(bytesRead)
        }
        let expected = (0 ..< 4).map { UInt8(truncatingIfNeeded: index.crc >> (8 * $0)) }
            + (0 ..< 4).map { UInt8(truncatingIfNeeded: UInt64(index.uncompressedBytes) >> (8 * UInt64($0))) }
        guard tailReached, regionOpen, bytesRead >= index.compressedBytes, trailer == expected else {
            throw DeflateError(input: name, message: "the gzip stream is not the one that was indexed (it changed while being read)")
        }
        endInflater()
    }

    private func captureTrailer(_ bytes: UnsafeRawBufferPointer, at start: Int64) {
        let wanted = (index.compressedBytes - 8) ..< index.compressedBytes
        let here = start ..< start + Int64(bytes.count)
        let overlap = wanted.clamped(to: here)
        guard !overlap.isEmpty else { return }
        trailer += bytes[Int(overlap.lowerBound - start) ..< Int(overlap.upperBound - start)]
    }

    private func process(_ chunk: UnsafeRawBufferPointer, at start: Int64) throws {
        let end = start + Int64(chunk.count)
        while true {
            // The copier, up to the next region's first bit.
            if region < regions.count, !regionOpen {
                let target = regions[region].startBit
                let upTo = min(target, end * 8)
                if upTo > copyBit {
                    try writer.copyBits(from: chunk, base: start * 8, range: copyBit ..< upTo)
                    copyBit = upTo
                }
                if copyBit == target { try openRegion() }
            }
            // Past the last region's start the original is only read to its end (for the trailer check).
            if tailReached { return }
            // The inflater starts at its region's checkpoint once the stream gets there.
            if inflater == nil, inflaterRegion < regions.count {
                let checkpoint = regions[inflaterRegion].checkpoint
                let byte = checkpoint.bit / 8
                if byte < start {
                    throw DeflateError(input: name, message: "internal error: checkpoint at byte \(byte) was passed")
                }
                if byte < end { try startInflater(at: checkpoint, chunk: chunk, chunkStart: start) }
            }
            guard inflater != nil else { return }
            switch try runInflater(chunk: chunk, chunkStart: start) {
            case .needInput, .tailReached: return
            case .regionDone: continue
            }
        }
    }

    /// The copier reached a region: account for the copied run, align the output for the deflater.
    private func openRegion() throws {
        let next = regions[region]
        let from = copyFromBoundary
        let to = next.startBoundary
        let length = index.boundaryOffsets[to] - index.boundaryOffsets[from]
        if length > 0 {
            // CRC(A B) = combine(CRC(A), 0, |B|) ^ CRC(B): the copied run's own CRC from the two recorded ones.
            let segment = index.boundaryCRCs[to] ^ CRC32.combine(index.boundaryCRCs[from], 0, lengthB: length)
            outputCRC = CRC32.combine(outputCRC, segment, lengthB: length)
            outputBytes += length
        }
        try writer.alignWithEmptyStoredBlock()
        regionOpen = true
    }

    private func startInflater(at checkpoint: DeflateIndex.Checkpoint, chunk: UnsafeRawBufferPointer, chunkStart: Int64) throws {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard emts_inflate_init_raw(stream) == Z_OK else {
            stream.deallocate()
            throw DeflateError(input: name, message: "zlib could not start inflating (out of memory)")
        }
        inflater = stream
        let byte = checkpoint.bit / 8
        let used = Int32(checkpoint.bit & 7)
        inflaterInput = byte
        if used != 0 {
            // The boundary is inside this byte: its upper bits belong to the next block.
            inflatePrime(stream, 8 - used, Int32(chunk[Int(byte - chunkStart)]) >> used)
            inflaterInput += 1
        }
        if !checkpoint.window.isEmpty {
            checkpoint.window.withUnsafeBufferPointer {
                _ = inflateSetDictionary(stream, $0.baseAddress, UInt32($0.count))
            }
        }
        history = checkpoint.window
        inflaterOutput = checkpoint.offset
        pending = 0 ..< 0
        inflaterEnded = false
    }

    private func endInflater() {
        guard let inflater else { return }
        inflateEnd(inflater)
        inflater.deallocate()
        self.inflater = nil
        pending = 0 ..< 0
    }

    private func runInflater(chunk: UnsafeRawBufferPointer, chunkStart: Int64) throws -> Progress {
        while true {
            let routed = try route()
            if routed != .needInput { return routed }
            guard let stream = inflater else { return .needInput }
            let offset = Int(inflaterInput - chunkStart)
            if inflaterEnded {
                throw DeflateError(input: name, message: "the gzip stream ends before byte \(keep) (it changed while being read)")
            }
            guard offset < chunk.count else { return .needInput }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: chunk.baseAddress!.assumingMemoryBound(to: Bytef.self)) + offset
            stream.pointee.avail_in = UInt32(chunk.count - offset)
            stream.pointee.next_out = inflated.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(inflated.count)
            let code = inflate(stream, Z_NO_FLUSH)
            inflaterInput = chunkStart + Int64(chunk.count) - Int64(stream.pointee.avail_in)
            let produced = inflated.count - Int(stream.pointee.avail_out)
            pending = 0 ..< produced
            bytesInflated += Int64(produced)
            switch code {
            case Z_OK, Z_BUF_ERROR:
                if produced == 0, stream.pointee.avail_in > 0 {
                    throw DeflateError(input: name, message: "zlib made no progress near byte \(inflaterInput)")
                }
            case Z_STREAM_END:
                // The end of the deflate data: what it produced is routed; the tail must be reached by then.
                inflaterEnded = true
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                throw DeflateError(input: name, message: "damaged gzip stream near byte \(inflaterInput): \(reason) (it changed while being read)")
            }
        }
    }

    /// Hands the pending inflated bytes to the regions: before a region they are only remembered (the last
    /// 32 KiB are the next deflater's dictionary), inside it the kept ones are deflated.
    private func route() throws -> Progress {
        while true {
            let current = regions[inflaterRegion]
            let stop = current.end ?? keep
            if inflaterOutput >= stop {
                return try closeRegion()
            }
            if pending.isEmpty { return .needInput }
            let available = Int64(pending.count)
            if inflaterOutput < current.start {
                let take = Int(min(available, current.start - inflaterOutput))
                remember(pending.lowerBound, take)
                continue
            }
            if deflater == nil { try openDeflater(dictionary: history) }
            let take = Int(min(available, stop - inflaterOutput))
            try deflateKept(from: pending.lowerBound, count: take)
            remember(pending.lowerBound, take)
        }
    }

    private func remember(_ from: Int, _ count: Int) {
        let bytes = UnsafeRawBufferPointer(rebasing: inflated[from ..< from + count])
        if count >= DeflateIndex.windowSize {
            history = Array(bytes.suffix(DeflateIndex.windowSize))
        } else {
            history.append(contentsOf: bytes)
            if history.count > 2 * DeflateIndex.windowSize {
                history.removeFirst(history.count - DeflateIndex.windowSize)
            }
        }
        pending = pending.lowerBound + count ..< pending.upperBound
        inflaterOutput += Int64(count)
    }

    /// Deflates the bytes of `inflated[from ..< from + count]` (at `inflaterOutput`) that no removal covers.
    private func deflateKept(from: Int, count: Int) throws {
        var position = inflaterOutput
        let end = position + Int64(count)
        while position < end {
            while removedCursor < removed.count, removed[removedCursor].upperBound <= position { removedCursor += 1 }
            var next = end
            if removedCursor < removed.count {
                let range = removed[removedCursor]
                if range.lowerBound <= position {
                    position = min(end, range.upperBound)
                    continue
                }
                next = min(end, range.lowerBound)
            }
            let offset = from + Int(position - inflaterOutput)
            try compress(UnsafeRawBufferPointer(rebasing: inflated[offset ..< offset + Int(next - position)]))
            position = next
        }
    }

    private func openDeflater(dictionary window: [UInt8]) throws {
        guard regionOpen, inflaterRegion == region else {
            throw DeflateError(input: name, message: "internal error: recompressing ahead of the copy")
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard emts_deflate_init_raw(stream, level) == Z_OK else {
            stream.deallocate()
            throw DeflateError(input: name, message: "zlib could not start deflating (level \(level))")
        }
        deflater = stream
        let dictionary = window.suffix(DeflateIndex.windowSize)
        if !dictionary.isEmpty {
            Array(dictionary).withUnsafeBufferPointer {
                _ = deflateSetDictionary(stream, $0.baseAddress, UInt32($0.count))
            }
        }
    }

    /// Compresses `bytes` into the output (and into its CRC and size).
    private func compress(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        outputCRC = CRC32.update(outputCRC, bytes)
        outputBytes += Int64(bytes.count)
        bytesDeflated += Int64(bytes.count)
        try runDeflater(bytes, flush: Z_NO_FLUSH)
    }

    private func runDeflater(_ bytes: UnsafeRawBufferPointer, flush: Int32) throws {
        guard let stream = deflater else { return }
        stream.pointee.next_in = bytes.isEmpty ? nil
            : UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(bytes.count)
        while true {
            stream.pointee.next_out = deflated.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(deflated.count)
            let code = deflate(stream, flush)
            guard code == Z_OK || code == Z_STREAM_END || code == Z_BUF_ERROR else {
                throw DeflateError(input: name, message: "zlib deflate failed (\(code))")
            }
            let produced = deflated.count - Int(stream.pointee.avail_out)
            try writer.write(UnsafeRawBufferPointer(rebasing: deflated[0 ..< produced]))
            if flush == Z_FINISH {
                if code == Z_STREAM_END { return }
            } else if stream.pointee.avail_in == 0, stream.pointee.avail_out > 0 {
                return
            }
        }
    }

    /// The inflater reached the end of its region.
    private func closeRegion() throws -> Progress {
        let current = regions[inflaterRegion]
        if current.end == nil {
            // The rest comes from `write`; the original's remainder is not needed. (The deflater opens here
            // at the latest, in `write` or `finish`, once the copier has reached the region.)
            tailDictionary = Array(history.suffix(DeflateIndex.windowSize))
            tailReached = true
            endInflater()
            return .tailReached
        }
        if deflater == nil { try openDeflater(dictionary: history) }
        try endDeflater(flush: Z_SYNC_FLUSH)
        // The copied blocks go at their original bit phase (stored blocks are byte aligned).
        try writer.pad(toPhase: Int(current.endBit & 7))
        copyBit = current.endBit
        copyFromBoundary = current.endBoundary
        region += 1
        regionOpen = false
        inflaterRegion += 1
        // Inflating on is always correct; starting again at the next checkpoint saves work when it lies ahead
        // of everything this inflater has consumed.
        if inflaterRegion < regions.count, regions[inflaterRegion].checkpoint.bit / 8 >= inflaterInput {
            endInflater()
        }
        return .regionDone
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard tailReached, !finished, !appending else {
            throw DeflateError(input: name, message: "internal error: data written before the original was copied")
        }
        if deflater == nil { try openDeflater(dictionary: tailDictionary) }
        try compress(bytes)
    }

    /// Appends a piece compressed on its own (`ParallelDeflater`): the kept bytes before `keep` are flushed to a
    /// byte boundary first, and `write` may not follow. The pieces may be compressed before or while the
    /// original is copied, since none refers back into it.
    public func append(_ piece: ParallelDeflater.Piece) throws {
        guard tailReached, !finished else {
            throw DeflateError(input: name, message: "internal error: data appended before the original was copied")
        }
        if !appending {
            appending = true
            if deflater != nil { try endDeflater(flush: Z_SYNC_FLUSH) }
        }
        try writer.write(piece.deflated)
        outputCRC = CRC32.combine(outputCRC, piece.crc, lengthB: Int64(piece.length))
        outputBytes += Int64(piece.length)
        bytesDeflated += Int64(piece.length)
    }

    private func endDeflater(flush: Int32) throws {
        try runDeflater(UnsafeRawBufferPointer(start: nil, count: 0), flush: flush)
        deflateEnd(deflater!)
        deflater!.deallocate()
        deflater = nil
    }

    /// Ends the deflate stream and writes the trailer. Returns the new stream's uncompressed size.
    @discardableResult
    public func finish() throws -> Int64 {
        guard tailReached, !finished else {
            throw DeflateError(input: name, message: "internal error: finished before the original was copied")
        }
        finished = true
        // After appended pieces the final block is an empty one from a fresh deflater (no back-references).
        if deflater == nil { try openDeflater(dictionary: appending ? [] : tailDictionary) }
        try runDeflater(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        var trailer: [UInt8] = []
        for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: outputCRC >> UInt32(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: UInt64(outputBytes) >> UInt64(shift))) }
        try writer.write(trailer)
        try writer.flush()
        return outputBytes
    }

    /// Bytes of the new gzip stream written to the sink so far.
    public var bytesWritten: Int64 { writer.written }
}
