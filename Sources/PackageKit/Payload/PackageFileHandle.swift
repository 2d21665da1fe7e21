import Glibc
import StreamKit

/// A package file opened for positioned reads: headers and members are read by offset, payloads streamed.
final class PackageFileHandle {
    let path: String
    let size: Int64
    private let descriptor: Int32

    /// - Throws: `PackageError.unreadable` naming `path`.
    init(path: String) throws(PackageError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreadable(path: path, reason: reason)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .unreadable(path: path, reason: "not a regular file")
        }
        descriptor = fd
        size = Int64(status.st_size)
    }

    deinit { close(descriptor) }

    /// Fills `buffer` from `offset`; returns fewer bytes only at the end of the file.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(PackageError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let count = pread(descriptor, base + filled, buffer.count - filled, off_t(offset) + off_t(filled))
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: "reading at byte \(offset + Int64(filled)): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Exactly `count` bytes from `offset`; `what` names the structure in the error when the file is shorter.
    func bytes(at offset: Int64, count: Int, what: String) throws(PackageError) -> [UInt8] {
        guard count > 0 else { return [] }
        guard offset >= 0, offset <= size, Int64(count) <= size - offset else {
            throw .truncated(path: path, reason: "\(what) needs \(count) bytes at byte \(offset), the file has \(size)")
        }
        var result = [UInt8](repeating: 0, count: count)
        let got: Int
        do {
            got = try result.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        } catch {
            throw error as? PackageError ?? .unreadable(path: path, reason: "\(error)")
        }
        guard got == count else {
            throw .truncated(path: path, reason: "\(what): the file ended at byte \(offset + Int64(got)) while reading it")
        }
        return result
    }
}

/// The bytes of a package file between two offsets, as a `ByteSource` (a payload, an ar member).
final class PackageFileRange: ByteSource {
    private let file: PackageFileHandle
    private let end: Int64
    private var position: Int64

    init(_ file: PackageFileHandle, from start: Int64, to end: Int64) {
        self.file = file
        self.position = start
        self.end = end
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(PackageError) -> Int {
        let wanted = Int(min(Int64(buffer.count), end - position))
        guard wanted > 0 else { return 0 }
        let count = try file.read(at: position, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< wanted]))
        position += Int64(count)
        return count
    }
}
