import CArchive
import Glibc

/// A `ByteSink` that compresses everything written to it into another sink: a bare compressed stream,
/// no archive around it (libarchive's "raw" format behind a filter).
///
/// Used where the compressed bytes must go somewhere libarchive's own writers cannot (a nested archive
/// inside another one), and as the second stage of a pipeline that runs compression on its own thread.
public final class CompressingSink: ByteSink {
    public let filter: ArchiveFilter
    private let handle: OpaquePointer
    private let context: SinkContext
    private let output: String
    private var closed = false
    private var warnings: [String] = []

    /// - Parameters:
    ///   - downstream: receives the compressed bytes.
    ///   - name: identifies the stream in errors.
    /// - Throws: `ArchiveError` if libarchive refuses the filter or an option.
    public init(into downstream: any ByteSink, name: String, filter: ArchiveFilter, options: [ArchiveOption] = []) throws {
        guard let handle = archive_write_new() else {
            throw ArchiveError(operation: "opening", input: name, message: "out of memory")
        }
        self.handle = handle
        self.filter = filter
        self.output = name
        self.context = SinkContext(sink: downstream)
        try check(archive_write_set_format_raw(handle), handle, "setting raw format", input: name, warnings: &warnings)
        if filter != .none {
            try check(archive_write_add_filter(handle, filter.code), handle, "adding filter \(filter.rawValue)",
                      input: name, warnings: &warnings)
        }
        if !options.isEmpty {
            try check(archive_write_set_options(handle, options.map(\.text).joined(separator: ",")), handle,
                      "setting options", input: name, warnings: &warnings)
        }
        try check(archive_write_set_bytes_in_last_block(handle, 1), handle, "setting block size", input: name, warnings: &warnings)
        try check(context.open(handle), handle, "opening", input: name, warnings: &warnings)
        guard let entry = archive_entry_new() else {
            throw ArchiveError(operation: "opening", input: name, message: "out of memory")
        }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, "data")
        archive_entry_set_mode(entry, mode_t(EMTS_AE_IFREG | 0o644))
        try check(archive_write_header(handle, entry), handle, "starting stream", input: name, warnings: &warnings)
    }

    deinit { archive_write_free(handle) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = archive_write_data(handle, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                throw context.failure ?? ArchiveError.from(handle, code: Int32(truncatingIfNeeded: written),
                                                           operation: "compressing", input: output)
            }
            offset += written
        }
    }

    /// Flushes the compressor and ends the stream. Later calls do nothing.
    public func close() throws {
        guard !closed else { return }
        closed = true
        let code = archive_write_close(handle)
        if code < ARCHIVE_WARN {
            throw context.failure ?? ArchiveError.from(handle, code: code, operation: "closing", input: output)
        }
    }

    /// Compressed bytes produced so far.
    public var bytesWritten: Int64 { archive_filter_bytes(handle, -1) }
}
