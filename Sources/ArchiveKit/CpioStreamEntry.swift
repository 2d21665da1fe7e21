/// Writes a newc cpio archive of exactly one regular file whose size is not known until its data has been
/// streamed: the header is written with size 0 and patched once the data is complete.
///
/// libarchive's writers need an entry's size before its data, which would force a nested archive (the µOS's
/// `rootfs.tar.gz`) to be staged in memory or on disk first. The newc header is a fixed 110-byte ASCII record,
/// so it is written here directly; everything else about cpio stays with libarchive.
public final class CpioStreamEntry: ByteSink {
    private let file: FileSink
    private let headerOffset: Int64
    private let entry: ArchiveEntry
    private var dataBytes: Int64 = 0
    private var finished = false

    /// Starts the archive at the current end of `file` (which must be 4-byte aligned, as the kernel requires).
    public init(in file: FileSink, entry: ArchiveEntry) throws {
        precondition(entry.kind == .regular, "only regular files are streamed")
        precondition(file.offset % 4 == 0, "a cpio archive must start on a 4-byte boundary")
        self.file = file
        self.entry = entry
        self.headerOffset = file.offset
        try write(record: Self.header(entry, size: 0, name: entry.path))
    }

    /// Appends data bytes of the entry.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes)
        dataBytes += Int64(bytes.count)
    }

    /// Pads the data, fixes the size in the header, and writes the trailer.
    /// - Throws: `ArchiveError` if the data exceeded newc's 4 GiB limit, or the file's write error.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard dataBytes <= Int64(UInt32.max) else {
            throw ArchiveError(operation: "writing \(entry.path)", input: file.path,
                               message: "\(dataBytes) bytes exceed the 4 GiB limit of a newc cpio entry")
        }
        try file.pad(toMultipleOf: 4)
        try file.patch(Self.header(entry, size: dataBytes, name: entry.path).prefix(110).map { $0 }, at: headerOffset)
        let trailer = ArchiveEntry(path: "TRAILER!!!", kind: .regular, permissions: 0, linkCount: 1)
        var record = Self.header(trailer, size: 0, name: trailer.path)
        record[14 ..< 22] = ArraySlice(Self.hex(0)) // mode 0, as GNU cpio and the kernel write it
        try write(record: record)
    }

    /// Bytes of data streamed so far.
    public var size: Int64 { dataBytes }

    private func write(record: [UInt8]) throws {
        try record.withUnsafeBytes { try file.write($0) }
    }

    /// The 110-byte header, the NUL-terminated name, and padding to 4 bytes.
    static func header(_ entry: ArchiveEntry, size: Int64, name: String) -> [UInt8] {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt64] = [
            UInt64(truncatingIfNeeded: entry.inode), UInt64(entry.mode), UInt64(truncatingIfNeeded: entry.uid),
            UInt64(truncatingIfNeeded: entry.gid), UInt64(max(entry.linkCount, 1)),
            UInt64(truncatingIfNeeded: entry.mtime.seconds), UInt64(size),
            0, 0, UInt64(entry.deviceMajor), UInt64(entry.deviceMinor), UInt64(nameBytes.count), 0,
        ]
        var record = Array("070701".utf8)
        for field in fields { record += hex(field) }
        record += nameBytes
        while record.count % 4 != 0 { record.append(0) }
        return record
    }

    private static func hex(_ value: UInt64) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        let clamped = UInt32(truncatingIfNeeded: value)
        return (0 ..< 8).reversed().map { digits[Int((clamped >> (UInt32($0) * 4)) & 0xF)] }
    }
}
