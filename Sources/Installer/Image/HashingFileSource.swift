import Crypto
import Glibc
import StreamKit

/// Reads a file as a `ByteSource`, computing the sha256 of every byte read and counting them, so the
/// compressed image is hashed on its way into the decompressor, in one pass.
final class HashingFileSource: ByteSource {
    let path: String
    /// Bytes read so far.
    private(set) var bytesRead: UInt64 = 0
    private var hasher = SHA256()
    private var descriptor: Int32

    /// - Throws: `ImageError.unreadable` naming `path`.
    init(path: String) throws(ImageError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try readHashing(into: buffer)
    }

    /// Reads the rest of the file into the hash (bytes the decompressor did not need).
    func drain() throws(ImageError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while try readHashing(into: buffer) > 0 {}
    }

    /// The sha256 of the bytes read so far, in lower-case hex.
    var hexDigest: String { hasher.finalize().map { hex($0) }.joined() }

    private func readHashing(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: "at byte \(bytesRead): \(String(cString: strerror(errno)))")
            }
            if count > 0 {
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
                bytesRead += UInt64(count)
            }
            return count
        }
    }
}
