/// Where the deflate blocks of a gzip stream start, recorded while the stream is inflated once
/// (`GzipIndexingSource`), so that an edited copy can reuse the unchanged blocks as they are (`GzipSplicer`).
///
/// A block boundary is a point between two deflate blocks: its bit offset in the gzip file, the uncompressed
/// offset there and the CRC-32 of everything before it. Every few MiB a boundary also keeps the 32 KiB window
/// that precedes it, so inflating can start there (a checkpoint).
public struct DeflateIndex: Sendable {
    /// A boundary where inflating can start: its position and the window that precedes it.
    public struct Checkpoint: Sendable {
        public var bit: Int64
        public var offset: Int64
        public var window: [UInt8]
    }

    /// Bit offsets (in the gzip file) of the recorded block boundaries, ascending. The first is the start of
    /// the deflate data, right after the gzip header.
    public internal(set) var boundaryBits: [Int64] = []
    /// Uncompressed offsets of the same boundaries.
    public internal(set) var boundaryOffsets: [Int64] = []
    /// CRC-32 of the uncompressed bytes before each boundary.
    public internal(set) var boundaryCRCs: [UInt32] = []
    public internal(set) var checkpoints: [Checkpoint] = []
    /// Bytes of the gzip member, header and trailer included.
    public internal(set) var compressedBytes: Int64 = 0
    public internal(set) var uncompressedBytes: Int64 = 0
    /// The member's CRC-32 and size, as its trailer holds them (zlib checked them).
    public internal(set) var crc: UInt32 = 0
    /// True when the input is exactly one gzip member (trailing zero bytes allowed) and the index is complete:
    /// only then can it be spliced.
    public internal(set) var isSpliceable = false

    /// Boundaries closer than this are not recorded: a hostile stream of tiny blocks cannot grow the index
    /// beyond a few bytes per 16 KiB of output.
    public static let minimumBoundaryGap: Int64 = 16 << 10
    /// The deflate window: a block's back-references reach at most this far.
    public static let windowSize = 32 << 10
    /// Checkpoints are thinned out (every other one dropped, spacing doubled) beyond this many.
    public static let maximumCheckpoints = 256

    public var boundaryCount: Int { boundaryOffsets.count }

    /// The last boundary at or before uncompressed `offset`.
    public func boundary(atOrBefore offset: Int64) -> Int {
        var low = 0
        var high = boundaryOffsets.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if boundaryOffsets[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The first boundary at or after uncompressed `offset`, nil if none.
    public func boundary(atOrAfter offset: Int64) -> Int? {
        let index = boundary(atOrBefore: offset)
        if boundaryOffsets[index] >= offset { return index }
        return index + 1 < boundaryOffsets.count ? index + 1 : nil
    }

    /// The last checkpoint at or before uncompressed `offset` (the first is the start of the stream).
    public func checkpoint(atOrBefore offset: Int64) -> Checkpoint {
        var best = checkpoints[0]
        for checkpoint in checkpoints where checkpoint.offset <= offset { best = checkpoint }
        return best
    }

    mutating func addBoundary(bit: Int64, offset: Int64, crc: UInt32) -> Bool {
        if let last = boundaryOffsets.last, offset - last < Self.minimumBoundaryGap { return false }
        boundaryBits.append(bit)
        boundaryOffsets.append(offset)
        boundaryCRCs.append(crc)
        return true
    }

    mutating func addCheckpoint(_ checkpoint: Checkpoint, spacing: inout Int64) {
        checkpoints.append(checkpoint)
        if checkpoints.count > Self.maximumCheckpoints {
            // Keep the first (the stream start) and every other one after it.
            checkpoints = checkpoints.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            spacing *= 2
        }
    }
}

/// A gzip stream that cannot be read, indexed or spliced: names the stream and the problem.
public struct DeflateError: Error, CustomStringConvertible, Sendable, Equatable {
    public var input: String
    public var message: String

    public init(input: String, message: String) {
        self.input = input
        self.message = message
    }

    public var description: String { "\(input): \(message)" }
}
