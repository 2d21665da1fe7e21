import CArchive
import Glibc
// Sources and sinks are part of ArchiveKit's API: every user of the readers and writers needs them.
@_exported import StreamKit

/// Streams the entries of an archive (cpio, tar, compressed or not) one at a time.
///
/// The reader never loads the whole archive: entries come in order and each entry's data is read
/// (or skipped) before the next header. It is not thread-safe; use one reader per task.
///
/// As a `ByteSource` it yields the current entry's data, so a nested archive can be read as a stream.
///
/// When cpio is among the formats, every newc header is checked before libarchive parses it (`CpioHeaderGuard`):
/// a name or symlink target over PATH_MAX, a damaged header and other cpio flavours are refused with a
/// `CpioHeaderError`, from the decompressed bytes whatever the compression.
public final class ArchiveReader: ByteSource {
    /// What the reader accepts.
    public enum Mode: Sendable {
        /// Any of the given container formats, behind any supported compression filter.
        case archive([ArchiveFormat])
        /// Any of the given container formats, from input that is already decompressed: no filter is tried.
        case uncompressedArchive([ArchiveFormat])
        /// A single compressed (or plain) stream, presented as one entry named "data".
        case raw
    }

    /// The input's name in errors.
    public let input: String
    /// Non-fatal messages libarchive reported while reading.
    public var warnings: [String] { (decompressor?.warnings ?? []) + ownWarnings }
    private var ownWarnings: [String] = []

    private var handle: OpaquePointer?
    private var current: OpaquePointer?
    // Keeps a callback source (and its buffer) alive while libarchive may call into it.
    private var sourceContext: SourceContext?
    /// When cpio is read: the stage that decompresses the input on its own, so that the cpio headers can be
    /// checked (`CpioHeaderGuard`) between the decompressor and libarchive's cpio reader. Nil otherwise.
    private var decompressor: ArchiveReader?

    /// Opens the archive file at `path`.
    /// - Throws: `ArchiveError` naming `path` when it cannot be opened or is not a supported archive.
    public convenience init(path: String, mode: Mode = .archive(ArchiveFormat.fileSystemFormats), blockSize: Int = 1 << 20) throws {
        try self.init(input: path, mode: mode, bufferSize: blockSize, source: nil) { handle in
            archive_read_open_filename(handle, path, blockSize)
        }
    }

    /// Opens an archive read from `source`; `name` identifies it in errors.
    public convenience init(source: any ByteSource, name: String, mode: Mode = .archive(ArchiveFormat.fileSystemFormats),
                            bufferSize: Int = 1 << 20) throws {
        try self.init(input: name, mode: mode, bufferSize: bufferSize, source: source, openPath: nil)
    }

    /// Opens an archive held in memory.
    public convenience init(bytes: [UInt8], name: String, mode: Mode = .archive(ArchiveFormat.fileSystemFormats)) throws {
        try self.init(source: MemorySource(bytes), name: name, mode: mode)
    }

    /// Reads `source`, or the file `openPath` opens when there is no source.
    ///
    /// cpio is read in two steps: the input is decompressed by a reader of its own (raw format), its bytes pass
    /// `CpioHeaderGuard`, and libarchive's cpio reader (with no filter) reads what passed. libarchive allocates
    /// what a cpio header declares for the name and a symlink's target before reading them; the guard refuses
    /// a header declaring more than PATH_MAX before the reader sees it, however the archive was compressed.
    private init(input: String, mode: Mode, bufferSize: Int, source: (any ByteSource)?,
                 openPath: ((OpaquePointer) -> Int32)?) throws {
        self.input = input
        _ = ArchiveLocale.ensured
        let formats: [ArchiveFormat]?
        let filtered: Bool
        switch mode {
        case .raw: (formats, filtered) = (nil, true)
        case .archive(let list): (formats, filtered) = (list, true)
        case .uncompressedArchive(let list): (formats, filtered) = (list, false)
        }
        guard let formats, formats.contains(.cpioNewc) else {
            try open(formats: formats, filters: filtered, bufferSize: bufferSize, source: source, openPath: openPath)
            return
        }
        var plain: any ByteSource
        if let source, !filtered {
            plain = source
        } else {
            let stage = try ArchiveReader(input: input, decompressing: filtered, bufferSize: bufferSize, source: source,
                                          openPath: openPath)
            decompressor = stage
            plain = try stage.next() == nil ? MemorySource([]) : stage
        }
        try open(formats: formats, filters: false, bufferSize: bufferSize, source: CpioHeaderGuard(plain, input: input),
                 openPath: nil)
    }

    /// The decompressing stage before a cpio reader: raw format, with every filter or (for input already
    /// decompressed, opened by path) none.
    private init(input: String, decompressing: Bool, bufferSize: Int, source: (any ByteSource)?,
                 openPath: ((OpaquePointer) -> Int32)?) throws {
        self.input = input
        try open(formats: nil, filters: decompressing, bufferSize: bufferSize, source: source, openPath: openPath)
    }

    /// Creates the libarchive handle for `formats` (nil: raw), with every compression filter or none, and opens it.
    private func open(formats: [ArchiveFormat]?, filters: Bool, bufferSize: Int, source: (any ByteSource)?,
                      openPath: ((OpaquePointer) -> Int32)?) throws {
        guard let handle = archive_read_new() else {
            throw ArchiveError(operation: "opening", input: input, message: "out of memory")
        }
        self.handle = handle
        if filters {
            try check(archive_read_support_filter_all(handle), handle, "enabling filters", input: input, warnings: &ownWarnings)
        }
        if let formats {
            for format in Set(formats.map { $0.code & ARCHIVE_FORMAT_BASE_MASK }) {
                let code = switch format {
                case ARCHIVE_FORMAT_CPIO: archive_read_support_format_cpio(handle)
                case ARCHIVE_FORMAT_AR: archive_read_support_format_ar(handle)
                default: archive_read_support_format_tar(handle)
                }
                try check(code, handle, "enabling formats", input: input, warnings: &ownWarnings)
            }
        } else {
            try check(archive_read_support_format_raw(handle), handle, "enabling raw format", input: input, warnings: &ownWarnings)
        }
        let result: Int32
        if let source {
            let context = SourceContext(source: source, bufferSize: bufferSize)
            sourceContext = context
            result = archive_read_open(handle, Unmanaged.passUnretained(context).toOpaque(), nil, { archive, client, out in
                let context = Unmanaged<SourceContext>.fromOpaque(client!).takeUnretainedValue()
                let count = context.next(out)
                if count < 0 { emts_archive_set_error(archive, EIO, "reading the input stream failed") }
                return count
            }, nil)
        } else {
            result = openPath?(handle) ?? ARCHIVE_FATAL
        }
        if result < ARCHIVE_WARN {
            throw sourceContext?.failure ?? ArchiveError.from(handle, code: result, operation: "opening", input: input)
        }
    }

    deinit {
        if let handle { archive_read_free(handle) }
    }

    /// The next entry's header, or nil at the end of the archive.
    /// - Throws: `ArchiveError` for a damaged or truncated archive, `CpioHeaderError` for a cpio header refused
    ///   before libarchive parsed it, or the source's own error.
    public func next() throws -> ArchiveEntry? {
        var entry: OpaquePointer?
        let code = archive_read_next_header(handle, &entry)
        if code == ARCHIVE_EOF { current = nil; return nil }
        if code < ARCHIVE_WARN {
            throw sourceContext?.failure ?? ArchiveError.from(handle, code: code, operation: "reading header", input: input)
        }
        if code == ARCHIVE_WARN { recordWarning("reading header") }
        current = entry
        return try ArchiveEntry(entry!, input: input)
    }

    /// Reads up to `buffer.count` bytes of the current entry's data; 0 at the end of the entry.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = archive_read_data(handle, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            let code = Int32(truncatingIfNeeded: count)
            // A warning is not the end of the data: note it and read on.
            guard code == ARCHIVE_WARN else {
                throw sourceContext?.failure ?? ArchiveError.from(handle, code: code, operation: "reading data", input: input)
            }
            recordWarning("reading data")
        }
    }

    /// Reads the rest of the current entry's data into memory, refusing more than `limit` bytes.
    public func readAll(limit: Int = 64 << 20) throws -> [UInt8] {
        try readAll(limit: limit) {
            ArchiveError(operation: "reading data", input: input, message: "entry data exceeds the \(limit)-byte limit")
        }
    }

    /// Skips the rest of the current entry's data.
    public func skipData() throws {
        let code = archive_read_data_skip(handle)
        if code < ARCHIVE_WARN {
            throw sourceContext?.failure ?? ArchiveError.from(handle, code: code, operation: "skipping data", input: input)
        }
    }

    /// The compression filters detected on the input, outermost first (empty when uncompressed).
    /// Valid after the first call to `next()`.
    public var filters: [ArchiveFilter] {
        if let decompressor { return decompressor.filters }
        let count = archive_filter_count(handle)
        // libarchive lists the innermost filter first and always ends with the "none" reader.
        return (0 ..< count).reversed().compactMap { index in
            ArchiveFilter(code: archive_filter_code(handle, index))
        }.filter { $0 != .none }
    }

    /// The detected container format, once a header has been read.
    public var format: ArchiveFormat? { ArchiveFormat(code: archive_format(handle)) }

    /// Bytes the decompressor has consumed from the underlying input so far (not what was read ahead): once a
    /// compressed stream has been read to its end, exactly where that stream ends.
    public var compressedBytesRead: Int64 { decompressor?.compressedBytesRead ?? archive_filter_bytes(handle, -1) }

    /// Bytes of uncompressed archive stream produced so far (consumed by the archive format's reader).
    public var uncompressedBytesRead: Int64 { archive_filter_bytes(handle, 0) }

    /// Where the last header read by `next()` starts in the uncompressed stream (its extension headers
    /// included); after `next()` returned nil, where the end-of-archive marker starts.
    public var headerPosition: Int64 { archive_read_header_position(handle) }

    private func recordWarning(_ operation: String) {
        let text = archive_error_string(handle).map { String(cString: $0) } ?? "warning"
        ownWarnings.append("\(operation): \(text)")
    }
}

/// Bridges a Swift `ByteSource` to libarchive's read callback.
private final class SourceContext {
    let source: any ByteSource
    let buffer: UnsafeMutableRawBufferPointer
    var failure: (any Error)?

    init(source: any ByteSource, bufferSize: Int) {
        self.source = source
        self.buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    func next(_ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        do {
            let count = try source.read(into: buffer)
            out?.pointee = UnsafeRawPointer(buffer.baseAddress)
            return count
        } catch {
            failure = error
            return -1
        }
    }
}
