import CISOFS
import Glibc

/// What a successful write produced.
public struct ISOWriteReport: Sendable, Hashable {
    /// The image file written.
    public var path: String
    /// Its size in bytes (a multiple of 2048).
    public var bytes: UInt64
    /// Warnings libisofs issued while generating the image (names adjusted, and the like).
    public var warnings: [String]

    public init(path: String, bytes: UInt64, warnings: [String]) {
        self.path = path
        self.bytes = bytes
        self.warnings = warnings
    }
}

extension ISOImage {
    /// Writes the image to the file `path`, replacing it only when the whole image was written.
    ///
    /// libisofs generates the image in its own thread; this reads it through the `burn_source` into
    /// a temporary file next to `path` and renames it into place. On any failure the temporary file
    /// is removed and `path` is left as it was.
    /// - Parameter progress: called on this thread after each chunk with bytes written and the total.
    /// - Parameter beforeCommit: called with the complete temporary file's path before it is renamed into
    ///   place, to patch bytes whose position is known only after layout; what it throws fails the write
    ///   (wrapped in `.writeImage`) and removes the file.
    /// - Throws: `ISOError` (`.prepareWrite` for invalid options, naming the missing boot image path,
    ///   appended partition file or MBR template; nothing is created then), `.writeImage` naming `path` when the
    ///   output cannot be written or libisofs cannot generate the image, with its messages in `details`).
    @discardableResult
    public func write(to path: String, options: ISOWriteOptions = ISOWriteOptions(),
                      progress: ((ISOWriteProgress) -> Void)? = nil,
                      beforeCommit: ((String) throws -> Void)? = nil) throws(ISOError) -> ISOWriteReport {
        try ISOLibrary.ensureInitialised()
        let libraryOptions = try options.makeLibraryOptions(path: path)
        defer { iso_write_opts_free(libraryOptions) }
        // The catalog belongs to the image in libisofs; it is applied for this write only and removed
        // after the burn source (declared below, so freed before this runs) is done with the image.
        if let elTorito = options.elTorito {
            try applyElTorito(elTorito, systemArea: options.systemArea)
        }
        defer { if options.elTorito != nil { removeElTorito() } }

        let output = try PartialFile(finalPath: path)
        var completed = false
        defer { if !completed { output.discard() } }

        _ = ISOLibrary.messages(for: messageID)  // start this write with an empty mailbox
        var created: UnsafeMutablePointer<burn_source>?
        let rc = iso_image_create_burn_source(handle, libraryOptions, &created)
        guard rc >= 0, let source = created else {
            throw .library(.writeImage, path: path, code: rc, details: ISOLibrary.messages(for: messageID))
        }
        var drained = false
        defer {
            // Stops the generator thread if reading ended early, then waits for it and frees the source.
            if !drained { _ = source.pointee.cancel?(source) }
            source.pointee.free_data?(source)
            free(source)
        }

        let total = UInt64(max(0, source.pointee.get_size?(source) ?? 0))
        let chunk = 512 * 2048
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        guard let read = source.pointee.read_xt ?? source.pointee.read else {
            throw ISOError(operation: .writeImage, path: path, message: "libisofs returned a burn_source without a read function")
        }
        var written: UInt64 = 0
        progress?(ISOWriteProgress(bytesWritten: 0, totalBytes: total))
        // The ring buffer answers a read it cannot fill completely with EOF and drops the partial
        // data, and it reports a failed generator as EOF too: read exactly what remains, then
        // expect EOF and ask the buffer how the generator ended.
        while written < total {
            let want = Int32(min(UInt64(chunk), total - written))
            let count = read(source, buffer, want)
            guard count == want else {
                throw ISOError(operation: .writeImage, path: path,
                               message: "libisofs could not generate the image (stopped after \(written) of \(total) bytes)",
                               details: ISOLibrary.messages(for: messageID))
            }
            try output.write(UnsafeRawBufferPointer(start: buffer, count: Int(count)))
            written += UInt64(count)
            progress?(ISOWriteProgress(bytesWritten: written, totalBytes: total))
        }
        let extra = read(source, buffer, 2048)
        let status = iso_ring_buffer_get_status(source, nil, nil)
        drained = extra == 0
        guard extra == 0, status == 2 || status == 6 else {
            throw ISOError(operation: .writeImage, path: path,
                           message: extra != 0 ? "libisofs produced more than the announced \(total) bytes"
                                               : "libisofs reported a failure after the last byte (state \(status))",
                           details: ISOLibrary.messages(for: messageID))
        }
        let messages = ISOLibrary.messages(for: messageID)
        if let beforeCommit {
            do {
                try beforeCommit(output.temporaryPath)
            } catch let error as ISOError {
                throw error
            } catch {
                throw ISOError(operation: .writeImage, path: path, message: "\(error)")
            }
        }
        try output.commit()
        completed = true
        return ISOWriteReport(path: path, bytes: written, warnings: messages)
    }
}

/// A temporary file next to `finalPath` that becomes `finalPath` only on `commit()`.
final class PartialFile {
    let finalPath: String
    let temporaryPath: String
    private var descriptor: Int32
    private var finished = false

    init(finalPath: String) throws(ISOError) {
        self.finalPath = finalPath
        let slash = finalPath.lastIndex(of: "/")
        let directory = slash.map { String(finalPath[..<$0]) } ?? "."
        let name = slash.map { String(finalPath[finalPath.index(after: $0)...]) } ?? finalPath
        guard !name.isEmpty else {
            throw ISOError(operation: .writeImage, path: finalPath, message: "the output path names a directory")
        }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        temporaryPath = (directory.isEmpty ? "" : directory + "/") + ".\(name).\(suffix).partial"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .system(.writeImage, path: finalPath, what: "cannot create a file in \(directory.isEmpty ? "/" : directory)")
        }
    }

    deinit { discard() }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ISOError) {
        var offset = 0
        while offset < bytes.count {
            let done = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if done < 0 {
                if errno == EINTR { continue }
                throw .system(.writeImage, path: finalPath, what: "cannot write")
            }
            offset += done
        }
    }

    /// Flushes, closes and renames the file into place.
    func commit() throws(ISOError) {
        guard fsync(descriptor) == 0 else { throw .system(.writeImage, path: finalPath, what: "cannot flush") }
        let closed = close(descriptor)
        descriptor = -1
        guard closed == 0 else { throw .system(.writeImage, path: finalPath, what: "cannot close") }
        guard rename(temporaryPath, finalPath) == 0 else {
            throw .system(.writeImage, path: finalPath, what: "cannot rename \(temporaryPath) into place")
        }
        finished = true
    }

    /// Closes and removes the temporary file (nothing after a successful `commit()`).
    func discard() {
        guard !finished else { return }
        finished = true
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
    }
}
