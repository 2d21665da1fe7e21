import ArchiveKit

/// The partition layout of an OS image, read from the GPT in its decompressed first MiB: how large a disk
/// must be, which partition is the ESP.
public struct ImageLayout: Sendable, Equatable, Codable {
    /// One used GPT entry.
    public struct Partition: Sendable, Equatable, Codable {
        public var number: Int
        public var firstLBA: UInt64
        public var lastLBA: UInt64
        /// The type GUID, lower case.
        public var typeGUID: String
        public var name: String
    }

    /// How much of the decompressed image is read to find the layout (and held back while writing).
    public static let headSize = 1 << 20
    /// The EFI System Partition type GUID.
    public static let espTypeGUID = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

    /// 512 or 4096: the sector size the GPT was written for.
    public var sectorSize: Int
    public var diskGUID: String
    public var firstUsableLBA: UInt64
    public var lastUsableLBA: UInt64
    /// Where the backup GPT header sits: the image's last sector.
    public var backupHeaderLBA: UInt64
    public var partitions: [Partition]

    /// Bytes a disk needs to hold the image up to its backup GPT header.
    public var requiredBytes: UInt64 { (max(backupHeaderLBA, lastUsableLBA) + 1) * UInt64(sectorSize) }

    /// The number of the EFI System Partition (the boot entry points at it), `nil` when there is none.
    public var espPartitionNumber: Int? { partitions.first { $0.typeGUID == Self.espTypeGUID }?.number }

    /// Parses the primary GPT from the first bytes of a disk image; `nil` when there is no valid GPT header
    /// (signature `EFI PART` at LBA 1 for 512- or 4096-byte sectors, with a matching CRC).
    public init?(head: [UInt8]) {
        for sectorSize in [512, 4096] {
            if let layout = Self.parse(head, sectorSize: sectorSize) {
                self = layout
                return
            }
        }
        return nil
    }

    private init(sectorSize: Int, diskGUID: String, firstUsableLBA: UInt64, lastUsableLBA: UInt64,
                 backupHeaderLBA: UInt64, partitions: [Partition]) {
        self.sectorSize = sectorSize
        self.diskGUID = diskGUID
        self.firstUsableLBA = firstUsableLBA
        self.lastUsableLBA = lastUsableLBA
        self.backupHeaderLBA = backupHeaderLBA
        self.partitions = partitions
    }

    /// Decompresses the first MiB of `image` and parses its GPT; `nil` when it has none.
    /// - Throws: `ImageError` when the image cannot be read or decoded that far.
    public static func read(_ image: OSImage) throws(ImageError) -> ImageLayout? {
        var head: [UInt8] = []
        do {
            let source = try HashingFileSource(path: image.path)
            let reader = try ArchiveReader(source: source, name: image.path, mode: .raw)
            guard try reader.next() != nil else { throw ImageError.empty(path: image.path) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
            defer { buffer.deallocate() }
            while head.count < headSize {
                let count = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< min(buffer.count, headSize - head.count)]))
                if count == 0 { break }
                head.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
            }
        } catch let error as ImageError {
            throw error
        } catch {
            throw .damaged(path: image.path, compression: image.compression, message: "\(error)")
        }
        guard !head.isEmpty else { throw .empty(path: image.path) }
        return ImageLayout(head: head)
    }

    private static func parse(_ bytes: [UInt8], sectorSize: Int) -> ImageLayout? {
        let header = sectorSize
        guard bytes.count >= header + 92,
              Array(bytes[header ..< header + 8]) == Array("EFI PART".utf8) else { return nil }
        let headerSize = Int(bytes.le32(header + 12))
        guard headerSize >= 92, headerSize <= sectorSize, bytes.count >= header + headerSize else { return nil }
        var headerBytes = Array(bytes[header ..< header + headerSize])
        let storedCRC = bytes.le32(header + 16)
        headerBytes.replaceSubrange(16 ..< 20, with: [0, 0, 0, 0])
        guard CRC32.checksum(headerBytes) == storedCRC, bytes.le64(header + 24) == 1 else { return nil }

        let entriesLBA = bytes.le64(header + 72)
        let entryCount = Int(bytes.le32(header + 80))
        let entrySize = Int(bytes.le32(header + 84))
        var partitions: [Partition] = []
        if entrySize >= 128, entryCount <= 1024, entriesLBA < UInt64(bytes.count / sectorSize) {
            let start = Int(entriesLBA) * sectorSize
            for index in 0 ..< entryCount {
                let offset = start + index * entrySize
                guard offset + 128 <= bytes.count else { break }
                let type = Array(bytes[offset ..< offset + 16])
                guard type.contains(where: { $0 != 0 }) else { continue }
                let nameUnits = stride(from: offset + 56, to: offset + 128, by: 2)
                    .map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
                    .prefix { $0 != 0 }
                partitions.append(Partition(number: index + 1, firstLBA: bytes.le64(offset + 32),
                                            lastLBA: bytes.le64(offset + 40), typeGUID: guid(type),
                                            name: String(decoding: Array(nameUnits), as: UTF16.self)))
            }
        }
        return ImageLayout(sectorSize: sectorSize, diskGUID: guid(Array(bytes[header + 56 ..< header + 72])),
                           firstUsableLBA: bytes.le64(header + 40), lastUsableLBA: bytes.le64(header + 48),
                           backupHeaderLBA: bytes.le64(header + 32), partitions: partitions)
    }

    /// A GUID as text: the first three fields are stored little-endian.
    private static func guid(_ raw: [UInt8]) -> String {
        let order = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15]
        return order.map { $0 < 0 ? "-" : hex(raw[$0]) }.joined()
    }
}

extension [UInt8] {
    fileprivate func le32(_ offset: Int) -> UInt32 {
        (0 ..< 4).reduce(UInt32(0)) { $0 | UInt32(self[offset + $1]) << (8 * $1) }
    }

    fileprivate func le64(_ offset: Int) -> UInt64 {
        (0 ..< 8).reduce(UInt64(0)) { $0 | UInt64(self[offset + $1]) << (8 * $1) }
    }
}
