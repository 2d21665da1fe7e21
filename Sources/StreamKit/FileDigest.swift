import Crypto
import Glibc

/// SHA-256 of a file, or of a byte range of it, read in 1 MiB chunks (bounded memory whatever the size).
public enum FileDigest {
    /// What was digested.
    public struct Result: Sendable, Equatable {
        public var bytes: UInt64
        /// Lower-case hex.
        public var sha256: String

        public init(bytes: UInt64, sha256: String) {
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    /// Digests `path` whole, or `range` of it.
    /// - Parameter progress: called after each chunk with the bytes digested so far.
    /// - Throws: `FileStreamError` naming `path` (cannot open or read, or it ends inside `range`).
    public static func sha256(of path: String, range: Range<UInt64>? = nil,
                              progress: ((UInt64) -> Void)? = nil) throws -> Result {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileStreamError(path: path, operation: "opening", errno: errno) }
        defer { close(descriptor) }
        var hasher = SHA256()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var position = range?.lowerBound ?? 0
        var total: UInt64 = 0
        while true {
            var want = chunk
            if let range {
                guard position < range.upperBound else { break }
                want = Int(min(UInt64(chunk), range.upperBound - position))
            }
            let count = pread(descriptor, buffer.baseAddress, want, off_t(position))
            if count < 0 {
                if errno == EINTR { continue }
                throw FileStreamError(path: path, operation: "reading", errno: errno)
            }
            if count == 0 {
                if range != nil { throw FileStreamError(path: path, operation: "reading (it ends early)", errno: EIO) }
                break
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
            position += UInt64(count)
            total += UInt64(count)
            progress?(total)
        }
        return Result(bytes: total, sha256: hasher.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined())
    }
}
