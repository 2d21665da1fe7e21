import CArchive
import Glibc

/// Writes an archive entry by entry, through a compression filter, to a file or a `ByteSink`.
///
/// Callers write a header, then exactly `entry.size` bytes of data for entries that carry data, then the next
/// header. `close()` must be called to flush the trailer; an unclosed writer's output is incomplete.
public final class ArchiveWriter {
    /// The output's name in errors.
    public let output: String
    /// Non-fatal messages libarchive reported while writing.
    public private(set) var warnings: [String] = []

    private var handle: OpaquePointer?
    private let entry: OpaquePointer
    private var sinkContext: SinkContext?
    private var pendingData: Int64 = 0
    private var pendingPath = ""
    private var closed = false

    /// Writes a new archive at `path` (created or truncated).
    /// - Throws: `ArchiveError` naming `path` when it cannot be created or an option is not supported.
    public convenience init(path: String, format: ArchiveFormat, filter: ArchiveFilter = .none,
                            options: [ArchiveOption] = []) throws {
        try self.init(output: path, format: format, filter: filter, options: options) { handle in
            archive_write_open_filename(handle, path)
        }
    }

    /// Writes a new archive into `sink`; `name` identifies the output in errors.
    public convenience init(sink: any ByteSink, name: String, format: ArchiveFormat, filter: ArchiveFilter = .none,
                            options: [ArchiveOption] = []) throws {
        let context = SinkContext(sink: sink)
        try self.init(output: name, format: format, filter: filter, options: options, context: context) { handle in
            context.open(handle)
        }
    }

    private init(output: String, format: ArchiveFormat, filter: ArchiveFilter, options: [ArchiveOption],
                 context: SinkContext? = nil, open: (OpaquePointer) -> Int32) throws {
        self.output = output
        self.sinkContext = context
        _ = ArchiveLocale.ensured
        guard let handle = archive_write_new(), let entry = archive_entry_new() else {
            throw ArchiveError(operation: "opening", input: output, message: "out of memory")
        }
        self.handle = handle
        self.entry = entry
        // libarchive's set-by-code table has no ar entry; its own setter writes GNU (SVR4) ar.
        let formatCode = format == .ar ? archive_write_set_format_ar_svr4(handle) : archive_write_set_format(handle, format.code)
        try check(formatCode, handle, "setting format \(format.rawValue)", input: output, warnings: &warnings)
        if filter != .none {
            try check(archive_write_add_filter(handle, filter.code), handle, "adding filter \(filter.rawValue)",
                      input: output, warnings: &warnings)
        }
        if !options.isEmpty {
            try check(archive_write_set_options(handle, options.map(\.text).joined(separator: ",")), handle,
                      "setting options \(options.map(\.text).joined(separator: ","))", input: output, warnings: &warnings)
        }
        // No zero padding after the last block: a compressed stream must end where its data ends.
        try check(archive_write_set_bytes_in_last_block(handle, 1), handle, "setting block size",
                  input: output, warnings: &warnings)
        try check(open(handle), handle, "opening", input: output, warnings: &warnings)
    }

    deinit {
        archive_entry_free(entry)
        if let handle { archive_write_free(handle) }
    }

    /// Writes the header of `entry`; its data (if any) must follow through `write(_:)`.
    /// - Throws: `ArchiveError` if the previous entry's data was incomplete or libarchive refuses the header.
    public func writeHeader(_ header: ArchiveEntry) throws {
        try finishPending()
        archive_entry_clear(entry)
        header.fill(entry)
        try check(archive_write_header(handle, entry), handle, "writing header of \(header.path)",
                  input: output, warnings: &warnings)
        // libarchive may zero the size (a hard link whose body travels elsewhere): trust what it kept.
        pendingData = archive_entry_size(entry)
        pendingPath = header.path
    }

    /// Writes the next chunk of the current entry's data.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard Int64(bytes.count) <= pendingData else {
            throw ArchiveError(operation: "writing data of \(pendingPath)", input: output,
                               message: "\(bytes.count) bytes given but only \(pendingData) remain of the entry's size")
        }
        var offset = 0
        while offset < bytes.count {
            let written = archive_write_data(handle, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                throw sinkContext?.failure ?? ArchiveError.from(handle, code: Int32(truncatingIfNeeded: written),
                                                                operation: "writing data of \(pendingPath)", input: output)
            }
            offset += written
        }
        pendingData -= Int64(bytes.count)
    }

    /// Writes a whole entry with its data in one call.
    public func write(_ header: ArchiveEntry, data: [UInt8] = []) throws {
        var header = header
        if header.kind == .regular && header.hardlinkTarget == nil { header.size = Int64(data.count) }
        try writeHeader(header)
        if pendingData > 0 { try data.withUnsafeBytes { try write($0) } }
    }

    /// Copies the current entry's data from `source` (typically another archive's reader, positioned on an
    /// entry) into this archive, streaming.
    public func copyData(from source: any ByteSource, buffer: UnsafeMutableRawBufferPointer) throws {
        while true {
            let count = try source.read(into: buffer)
            if count == 0 { return }
            try write(UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
        }
    }

    /// Writes the trailer and flushes every filter. Safe to call once; later calls do nothing.
    public func close() throws {
        guard !closed else { return }
        closed = true
        try finishPending()
        let code = archive_write_close(handle)
        if code < ARCHIVE_WARN {
            throw sinkContext?.failure ?? ArchiveError.from(handle, code: code, operation: "closing", input: output)
        }
    }

    /// Bytes written to the output (after compression) so far.
    public var bytesWritten: Int64 { archive_filter_bytes(handle, -1) }

    private func finishPending() throws {
        if pendingData != 0 {
            throw ArchiveError(operation: "writing data of \(pendingPath)", input: output,
                               message: "\(pendingData) bytes of the entry's declared size were never written")
        }
    }

}

/// Bridges libarchive's write callback to a Swift `ByteSink`, keeping the sink's own error.
final class SinkContext {
    let sink: any ByteSink
    var failure: (any Error)?

    init(sink: any ByteSink) { self.sink = sink }

    /// Opens `handle` for writing into the sink; the handle must not outlive this context.
    func open(_ handle: OpaquePointer) -> Int32 {
        archive_write_open2(handle, Unmanaged.passUnretained(self).toOpaque(), nil, { archive, client, bytes, count in
            let context = Unmanaged<SinkContext>.fromOpaque(client!).takeUnretainedValue()
            do {
                try context.sink.write(UnsafeRawBufferPointer(start: bytes, count: count))
                return count
            } catch {
                context.failure = error
                emts_archive_set_error(archive, EIO, "writing the output stream failed")
                return -1
            }
        }, nil, nil)
    }
}
