import ArchiveKit

/// How an initramfs file is cut into segments: each a newc cpio archive (or several) stored plain or as one
/// compressed stream, with the zero padding that follows it. The ranges tile the file exactly:
/// `leadingPadding + Σ (length + paddingAfter) == fileSize`.
///
/// Compressed streams of one format that touch without padding (`cat a.gz b.gz`) form one segment: the
/// decoders read them as one multi-member stream. The kernel would see two; the entries are the same.
public struct InitramfsLayout: Codable, Sendable, Hashable {
    public struct Segment: Codable, Sendable, Hashable {
        /// Position in the file, from 0.
        public var index: Int
        /// First byte of the segment in the file.
        public var offset: Int64
        /// Bytes the segment occupies in the file: a plain cpio up to and including its padded TRAILER!!!
        /// header, a compressed segment up to the end of its compressed stream.
        public var length: Int64
        /// `.none` for a plain cpio.
        public var compression: ArchiveFilter
        /// cpio archives in the segment (a compressed stream may hold several back to back; a plain segment one).
        public var archiveCount: Int
        /// Entries in the segment, TRAILER!!! not counted.
        public var entryCount: Int
        /// Size of the cpio data after decompression (equals `length` for a plain segment).
        public var uncompressedLength: Int64
        /// Zero bytes between this segment and the next one (or the end of the file).
        public var paddingAfter: Int64

        public init(index: Int, offset: Int64, length: Int64, compression: ArchiveFilter, archiveCount: Int,
                    entryCount: Int, uncompressedLength: Int64, paddingAfter: Int64) {
            self.index = index
            self.offset = offset
            self.length = length
            self.compression = compression
            self.archiveCount = archiveCount
            self.entryCount = entryCount
            self.uncompressedLength = uncompressedLength
            self.paddingAfter = paddingAfter
        }

        /// First byte after the segment (where its padding starts).
        public var end: Int64 { offset + length }
    }

    public var fileSize: Int64
    /// Zero bytes before the first segment (the kernel skips them).
    public var leadingPadding: Int64
    public var segments: [Segment]

    public init(fileSize: Int64, leadingPadding: Int64, segments: [Segment]) {
        self.fileSize = fileSize
        self.leadingPadding = leadingPadding
        self.segments = segments
    }

    /// Whether padding and segments cover every byte of the file once, in order.
    public var tilesFile: Bool {
        var position = leadingPadding
        for segment in segments {
            guard segment.offset == position else { return false }
            position = segment.end + segment.paddingAfter
        }
        return position == fileSize
    }

    /// Total cpio bytes after decompression: a lower bound for the RAM the kernel needs to unpack it.
    public var uncompressedLength: Int64 { segments.reduce(0) { $0 + $1.uncompressedLength } }
}
