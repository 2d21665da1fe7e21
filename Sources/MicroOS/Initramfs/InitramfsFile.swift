import ArchiveKit
import Glibc

/// An initramfs file opened for positioned reads; segments are located by offset, never by reading it whole.
/// The initramfs may also be a byte range of a larger file (the initramfs inside an ISO image is one extent).
final class InitramfsFile {
    let path: String
    let size: Int64
    private let descriptor: Int32
    /// Where the initramfs starts in the file.
    private let base: Int64

    /// - Parameter range: the initramfs's bytes within the file (`nil`: the whole file).
    /// - Parameter name: what errors call it (default `path`), such as "emt-s.iso:/boot/initramfs.img".
    /// - Throws: `InitramfsError.unreadable` naming it.
    init(path hostPath: String, range: Range<Int64>? = nil, name: String? = nil) throws {
        let path = name ?? hostPath
        self.path = path
        let fd = open(hostPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw InitramfsError(.unreadable, path: path, offset: 0, "cannot open: \(String(cString: strerror(errno)))")
        }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw InitramfsError(.unreadable, path: path, offset: 0, "cannot determine the size: \(reason)")
        }
        if let range {
            guard range.lowerBound >= 0, range.upperBound <= Int64(end) else {
                close(fd)
                throw InitramfsError(.unreadable, path: path, offset: 0,
                                     "the range \(range) lies beyond the end of the file (\(end) bytes)")
            }
            base = range.lowerBound
            size = Int64(range.count)
        } else {
            base = 0
            size = Int64(end)
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Fills `buffer` from `offset`; returns fewer bytes only at the end of the file.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let wanted = Int(min(Int64(buffer.count - filled), max(0, size - offset - Int64(filled))))
            if wanted == 0 { break }
            let count = pread(descriptor, buffer.baseAddress! + filled, wanted, off_t(base + offset) + off_t(filled))
            if count < 0 {
                if errno == EINTR { continue }
                throw InitramfsError(.unreadable, path: path, offset: offset + Int64(filled),
                                     "read failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    func bytes(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset < size, count > 0 else { return [] }
        let wanted = Int(min(Int64(count), size - offset))
        var result = [UInt8](repeating: 0, count: wanted)
        let got = try result.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        result.removeLast(wanted - got)
        return result
    }

    /// How many zero bytes start at `offset` (up to the end of the file).
    func zeroRun(from offset: Int64) throws -> Int64 {
        var position = offset
        var block = [UInt8](repeating: 0, count: 64 << 10)
        while position < size {
            let count = try block.withUnsafeMutableBytes { try read(at: position, into: $0) }
            if count == 0 { break }
            if let firstNonZero = block[0 ..< count].firstIndex(where: { $0 != 0 }) {
                return position + Int64(firstNonZero) - offset
            }
            position += Int64(count)
        }
        return position - offset
    }
}

/// The bytes of a file between two offsets, as a `ByteSource`.
final class InitramfsFileRange: ByteSource {
    private let file: InitramfsFile
    private let end: Int64
    private var position: Int64
    /// Whether a read was asked for after the last byte: the consumer wanted more than the range holds.
    private(set) var exhausted = false

    init(_ file: InitramfsFile, from start: Int64, to end: Int64) {
        self.file = file
        self.position = start
        self.end = end
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let wanted = Int(min(Int64(buffer.count), end - position))
        guard wanted > 0 else {
            exhausted = true
            return 0
        }
        let count = try file.read(at: position, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< wanted]))
        position += Int64(count)
        return count
    }
}

extension Array where Element == UInt8 {
    /// Little-endian integer at `index` (callers check the bounds).
    func initramfsLE(_ index: Int, bytes width: Int) -> UInt64 {
        var value: UInt64 = 0
        for shift in 0 ..< width { value |= UInt64(self[index + shift]) << (8 * shift) }
        return value
    }

    /// "1f 8b 08 00" plus a printable rendering, for error messages about unexpected bytes.
    var initramfsHexDump: String {
        let hex = map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
        let text = String(map { (0x20 ..< 0x7F).contains($0) ? Character(Unicode.Scalar($0)) : "." })
        return "\(hex) (\"\(text)\")"
    }
}
