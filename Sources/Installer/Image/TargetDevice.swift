import Glibc

/// The disk (or, in tests, the regular file) the image is written to, opened for writing.
///
/// A block device is opened with `O_EXCL`, which the kernel refuses while anything has it mounted or
/// holds it: a last guard against writing a disk in use.
final class TargetDevice {
    /// How much of each end is zeroed to remove partition tables: the protective MBR and primary GPT
    /// live in the first MiB, the backup GPT in the last 33 sectors.
    static let signatureArea: UInt64 = 1 << 20
    /// `BLKRRPART`: `_IO(0x12, 95)`, ask the kernel to re-read the partition table.
    static let rereadPartitionTableRequest: UInt = 0x125F

    let path: String
    let isBlockDevice: Bool
    /// Size in bytes: the block device's size, or the regular file's length.
    let capacity: UInt64
    /// A regular file that writes may extend (an image file standing in for a stick).
    let growable: Bool
    private var descriptor: Int32

    init(path: String, growable: Bool = false) throws(TargetIOError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else { throw TargetIOError(operation: "opening", kind: .system(errno)) }
        let type = info.st_mode & S_IFMT
        guard type == S_IFBLK || type == S_IFREG else {
            throw TargetIOError(operation: "opening (not a block device or regular file)", kind: .system(EINVAL))
        }
        isBlockDevice = type == S_IFBLK
        self.growable = growable && !isBlockDevice
        descriptor = open(path, O_RDWR | O_CLOEXEC | (isBlockDevice ? O_EXCL : 0))
        guard descriptor >= 0 else {
            throw TargetIOError(operation: isBlockDevice ? "opening exclusively" : "opening", kind: .system(errno))
        }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw TargetIOError(operation: "measuring", kind: .system(code))
        }
        capacity = UInt64(end)
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Writes all of `bytes` at `offset`, refusing to go past the end.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(TargetIOError) {
        guard growable || offset + UInt64(bytes.count) <= capacity else {
            throw TargetIOError(operation: "writing", offset: offset, kind: .noSpace(needed: offset + UInt64(bytes.count)))
        }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var done = 0
        while done < bytes.count {
            let count = pwrite(descriptor, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw TargetIOError(operation: "writing", offset: offset + UInt64(done), kind: .system(errno))
            }
            guard count > 0 else {
                throw TargetIOError(operation: "writing", offset: offset + UInt64(done), kind: .shortWrite(done))
            }
            done += count
        }
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: UInt64) throws(TargetIOError) {
        let failure = bytes.withUnsafeBytes { raw -> TargetIOError? in
            do throws(TargetIOError) {
                try write(raw, at: offset)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Flushes written data to the disk.
    func sync() throws(TargetIOError) {
        guard fsync(descriptor) == 0 else { throw TargetIOError(operation: "flushing (fsync)", kind: .system(errno)) }
    }

    /// Writes back the range and drops it from the page cache, so dirty data stays bounded and progress
    /// reflects what reached the disk.
    func writeBack(from offset: UInt64, count: UInt64) throws(TargetIOError) {
        guard fdatasync(descriptor) == 0 else {
            throw TargetIOError(operation: "flushing (fdatasync)", offset: offset, kind: .system(errno))
        }
        _ = posix_fadvise(descriptor, off_t(offset), off_t(count), POSIX_FADV_DONTNEED)
    }

    /// Zeroes the first and last MiB (where partition tables live) and flushes.
    func zeroSignatureAreas() throws(TargetIOError) {
        let area = min(Self.signatureArea, capacity)
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(area), alignment: 4096)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        try write(UnsafeRawBufferPointer(zeros), at: 0)
        if capacity > area {
            try write(UnsafeRawBufferPointer(zeros), at: capacity - area)
        }
        try sync()
    }

    /// Asks the kernel to re-read the partition table (block devices only).
    func rereadPartitionTable() throws(TargetIOError) {
        guard isBlockDevice else { return }
        guard ioctl(descriptor, Self.rereadPartitionTableRequest) == 0 else {
            throw TargetIOError(operation: "re-reading the partition table (BLKRRPART)", kind: .system(errno))
        }
    }
}
