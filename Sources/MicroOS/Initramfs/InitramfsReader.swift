import ArchiveKit

/// One entry of an initramfs, with where it came from.
public struct InitramfsItem: Sendable, Hashable {
    /// Index of the segment in the file.
    public var segment: Int
    /// Index of the cpio archive within the segment (a compressed stream may hold several).
    public var archive: Int
    /// The segment's compression (`.none` for a plain cpio).
    public var compression: ArchiveFilter
    public var entry: ArchiveEntry
}

/// Streams every entry of every segment of an initramfs, in file order.
///
/// An initramfs is newc cpio archives back to back, each plain or compressed, with zero padding between
/// them; later entries overwrite earlier ones when the kernel unpacks it, and this reader shows both. Nothing
/// is loaded whole: headers come one at a time and each entry's data is read on demand, before the next
/// `next()`. Once `next()` has returned nil, `layout` tells exactly where each segment lies in the file.
/// As a `ByteSource` it yields the current entry's data. Not thread-safe; use one reader per task.
public final class InitramfsReader: ByteSource {
    /// The file being read.
    public let path: String
    /// The file's size in bytes.
    public var fileSize: Int64 { file.size }
    /// Where every segment lies, available once `next()` has returned nil.
    public private(set) var layout: InitramfsLayout?
    /// Non-fatal messages libarchive reported while reading.
    public private(set) var warnings: [String] = []

    private let file: InitramfsFile
    private var cursor: InitramfsSegmentCursor?
    private var segments: [InitramfsLayout.Segment] = []
    private var leadingPadding: Int64 = 0
    /// File offset where the search for the next segment starts.
    private var position: Int64 = 0
    private var failure: InitramfsError?
    private let unpackLimit: Int64
    /// Bytes the segments already closed decompressed to.
    private var unpacked: Int64 = 0
    /// Counts entries handed out, so a data source can tell that its entry is no longer current.
    private var generation = 0

    /// Opens the initramfs at `path`, or the initramfs that is the byte `range` of the file at `path` (an
    /// initramfs inside an ISO image is one extent of it), called `name` in errors. Reading stops with
    /// `.unpackLimit` once the segments have decompressed to more than `unpackLimit` bytes, padding included.
    /// - Throws: `InitramfsError` (`.unreadable`, `.emptyFile`) naming it.
    public init(path: String, range: Range<Int64>? = nil, name: String? = nil,
                unpackLimit: Int64 = UnpackLimits.standard.totalBytes) throws {
        self.path = name ?? path
        self.unpackLimit = unpackLimit
        file = try InitramfsFile(path: path, range: range, name: name)
        guard file.size > 0 else {
            throw InitramfsError(.emptyFile, path: self.path, segment: 0, offset: 0,
                                 "empty file: an initramfs holds at least one cpio archive")
        }
    }

    /// The next entry, or nil after the last one (then `layout` is set).
    /// - Throws: `InitramfsError` naming the path, segment and offset; the reader then stays failed.
    public func next() throws -> InitramfsItem? {
        if let failure { throw failure }
        if layout != nil { return nil }
        do {
            let item = try advance()
            generation += 1
            return item
        } catch {
            let failure = error as? InitramfsError
                ?? InitramfsError(.unreadable, path: path, offset: position, "\(error)")
            self.failure = failure
            throw failure
        }
    }

    /// The segment the current entry belongs to, while one is open.
    public var currentSegment: Int? { cursor?.index }

    /// Reads up to `buffer.count` bytes of the current entry's data; 0 at its end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failure { throw failure }
        guard let cursor else { return 0 }
        do {
            return try cursor.read(into: buffer)
        } catch {
            failure = error as? InitramfsError
            throw error
        }
    }

    /// Reads the rest of the current entry's data into memory, refusing more than `limit` bytes.
    public func readAll(limit: Int = 64 << 20) throws -> [UInt8] {
        try readAll(limit: limit) {
            InitramfsError(.entryTooLarge, path: path, segment: cursor?.index, offset: cursor?.offset ?? 0,
                           "entry data exceeds the \(limit)-byte limit")
        }
    }

    /// Skips the rest of the current entry's data (`next()` does this by itself too).
    public func skipData() throws {
        if let failure { throw failure }
        do {
            try cursor?.skipData()
        } catch {
            failure = error as? InitramfsError
            throw error
        }
    }

    /// The current entry's data as a `ByteSource`, for streaming it into another reader (a nested
    /// `rootfs.tar.gz` opened with `ArchiveReader(source:name:)`). It reads only while its entry is current.
    public func entryData() -> InitramfsEntryData { InitramfsEntryData(reader: self, generation: generation) }

    fileprivate func read(into buffer: UnsafeMutableRawBufferPointer, generation: Int) throws -> Int {
        guard generation == self.generation else {
            throw InitramfsError(.misuse, path: path, segment: cursor?.index, offset: cursor?.offset ?? position,
                                 "entry data read after the reader moved on to another entry")
        }
        return try read(into: buffer)
    }

    // MARK: - Segments

    private func advance() throws -> InitramfsItem? {
        while true {
            if let cursor {
                if let (archive, entry) = try cursor.next() {
                    return InitramfsItem(segment: cursor.index, archive: archive, compression: cursor.compression,
                                         entry: entry)
                }
                close(cursor)
                continue
            }
            let zeros = try file.zeroRun(from: position)
            if segments.isEmpty { leadingPadding = zeros } else { segments[segments.count - 1].paddingAfter = zeros }
            position += zeros
            if position == file.size {
                guard !segments.isEmpty else {
                    throw InitramfsError(.emptyFile, path: path, segment: 0, offset: 0,
                                         "no cpio archive: the file holds only \(file.size) zero bytes")
                }
                layout = InitramfsLayout(fileSize: file.size, leadingPadding: leadingPadding, segments: segments)
                return nil
            }
            cursor = try openSegment(at: position)
        }
    }

    private func openSegment(at offset: Int64) throws -> InitramfsSegmentCursor {
        let index = segments.count
        let head = try file.bytes(at: offset, count: 16)
        func fail(_ kind: InitramfsError.Kind, _ message: String) -> InitramfsError {
            InitramfsError(kind, path: path, segment: index, offset: offset, message)
        }
        switch InitramfsMagic(head) {
        case .newc:
            guard offset % 4 == 0 else {
                throw fail(.misalignedArchive, "plain cpio archive at an offset that is not a multiple of 4 "
                               + "(the kernel only looks for one on a 4-byte boundary)")
            }
            return try InitramfsSegmentCursor(file: file, index: index, offset: offset, compression: .none,
                                              unpackLimit: (unpackLimit, unpacked))
        case .compressed(let filter):
            return try InitramfsSegmentCursor(file: file, index: index, offset: offset, compression: filter,
                                              unpackLimit: (unpackLimit, unpacked))
        case .oldCpio(let flavour):
            throw fail(.unsupportedCpioFormat, "unsupported cpio flavour: \(flavour); the kernel reads only newc "
                           + "(\"070701\" or \"070702\")")
        case .unsupportedCompression(let name):
            throw fail(.unsupportedCompression, "\(name)-compressed segment: not supported (gzip, zstd, xz, lz4, bzip2 are)")
        case .unknown:
            let seen = head.initramfsHexDump
            if segments.isEmpty {
                throw fail(.notACpio, "not a cpio archive or a gzip/zstd/xz/lz4/bzip2 stream: found bytes \(seen)")
            }
            throw fail(.trailingGarbage, "trailing garbage after the last segment: \(file.size - offset) bytes up to the "
                           + "end of the file that are neither zero padding nor a segment, starting with \(seen)")
        }
    }

    private func close(_ cursor: InitramfsSegmentCursor) {
        let extent = cursor.extent ?? (0, 0)
        segments.append(InitramfsLayout.Segment(
            index: cursor.index, offset: cursor.offset, length: extent.length, compression: cursor.compression,
            archiveCount: cursor.archiveCount, entryCount: cursor.entryCount,
            uncompressedLength: extent.uncompressed, paddingAfter: 0))
        warnings.append(contentsOf: cursor.warnings.map { "segment \(cursor.index): \($0)" })
        position = cursor.offset + extent.length
        unpacked += extent.uncompressed
        self.cursor = nil
    }
}

/// One initramfs entry's data as a stream of bytes; valid until the reader moves to the next entry.
public final class InitramfsEntryData: ByteSource {
    private let reader: InitramfsReader
    private let generation: Int

    fileprivate init(reader: InitramfsReader, generation: Int) {
        self.reader = reader
        self.generation = generation
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try reader.read(into: buffer, generation: generation)
    }
}
