/// What is wrong with an initramfs, where: the input path, the segment, and the byte offset.
public struct InitramfsError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// The file has no bytes, or only zero bytes.
        case emptyFile
        /// The bytes at a segment start (or inside a decompressed stream) are neither cpio nor a known compression.
        case notACpio
        /// A cpio archive the kernel does not read: old binary or odc ("070707"); only newc is accepted.
        case unsupportedCpioFormat
        /// A compressed segment in a format the kernel knows but this reader does not (lzma, lzo).
        case unsupportedCompression
        /// A cpio archive that does not start on a 4-byte boundary (the kernel rejects it).
        case misalignedArchive
        /// The file (or a compressed stream) ends inside a segment.
        case truncatedSegment
        /// A compressed stream that does not decode, or whose checksum does not match.
        case corruptCompressedStream
        /// A cpio archive whose headers are damaged.
        case corruptArchive
        /// Non-zero bytes after the last segment that do not start a valid segment.
        case trailingGarbage
        /// An entry's data is larger than the caller's limit.
        case entryTooLarge
        /// The segments decompress to more than the limit on unpacked size (a decompression bomb).
        case unpackLimit
        /// The file cannot be opened or read.
        case unreadable
        /// The reader was used out of order (data of an entry that is no longer current).
        case misuse
    }

    public var kind: Kind
    /// The initramfs file.
    public var path: String
    /// The segment concerned (the index the next segment would have had, for problems between segments).
    public var segment: Int?
    /// Byte offset in the file: where the segment starts, or where the problem is when no segment is open.
    public var offset: Int64
    /// Offset in the decompressed stream of a compressed segment, when the problem lies inside it.
    public var streamOffset: Int64?
    /// What is wrong, in words.
    public var message: String

    public init(_ kind: Kind, path: String, segment: Int? = nil, offset: Int64, streamOffset: Int64? = nil,
                _ message: String) {
        self.kind = kind
        self.path = path
        self.segment = segment
        self.offset = offset
        self.streamOffset = streamOffset
        self.message = message
    }

    public var description: String {
        var place = segment.map { "segment \($0) at byte \(offset)" } ?? "byte \(offset)"
        if let streamOffset { place += ", decompressed byte \(streamOffset)" }
        return "\(path): \(place): \(message)"
    }
}

/// Where a KernelImage check failed, naming the file.
public struct KernelImageError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
