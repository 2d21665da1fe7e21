import Glibc

/// Error from a file opened by ArchiveKit's file streams, naming the path and the system's reason.
public struct FileStreamError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var operation: String
    public var errno: Int32

    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(path): \(operation): \(String(cString: strerror(errno)))" }
}

/// A `ByteSink` writing to a new file, counting bytes, able to patch earlier bytes in place.
///
/// The file is created exclusively (never overwriting), so callers write to a temporary name and rename it
/// into place on success: no partial output is ever left under the final name.
public final class FileSink: ByteSink {
    public let path: String
    /// The name errors use: the final output's path when this is its temporary file.
    public let displayPath: String
    /// Bytes written so far (the current end of the file).
    public private(set) var offset: Int64 = 0
    private var descriptor: Int32

    /// Creates `path`, which must not exist yet; errors name `displayPath` (default: `path`).
    public init(creating path: String, permissions: mode_t = 0o644, displayPath: String? = nil) throws {
        self.path = path
        self.displayPath = displayPath ?? path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard descriptor >= 0 else { throw FileStreamError(path: self.displayPath, operation: "creating", errno: errno) }
    }

    /// Opens the existing file `path` to patch bytes in place (`patch(_:at:)`); writes append at its end.
    public init(updating path: String, displayPath: String? = nil) throws {
        self.path = path
        self.displayPath = displayPath ?? path
        descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileStreamError(path: self.displayPath, operation: "opening", errno: errno) }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else {
            let error = FileStreamError(path: self.displayPath, operation: "seeking", errno: errno)
            Glibc.close(descriptor)
            throw error
        }
        offset = Int64(end)
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileStreamError(path: displayPath, operation: "writing", errno: errno)
            }
            done += count
        }
        offset += Int64(bytes.count)
    }

    /// Writes zero bytes until the file length is a multiple of `alignment`.
    public func pad(toMultipleOf alignment: Int64) throws {
        let remainder = offset % alignment
        guard remainder != 0 else { return }
        try [UInt8](repeating: 0, count: Int(alignment - remainder)).withUnsafeBytes { try write($0) }
    }

    /// Overwrites bytes already written, at `position` (the end of the file does not move).
    public func patch(_ bytes: [UInt8], at position: Int64) throws {
        precondition(position + Int64(bytes.count) <= offset, "patching beyond what was written")
        let count = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(position)) }
        guard count == bytes.count else { throw FileStreamError(path: displayPath, operation: "patching", errno: errno) }
    }

    /// Flushes to stable storage and closes the file.
    public func close() throws {
        guard descriptor >= 0 else { return }
        defer { descriptor = -1 }
        if fsync(descriptor) != 0 { let e = errno; Glibc.close(descriptor); throw FileStreamError(path: displayPath, operation: "syncing", errno: e) }
        if Glibc.close(descriptor) != 0 { throw FileStreamError(path: displayPath, operation: "closing", errno: errno) }
    }
}
