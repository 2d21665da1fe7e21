/// A byte range of a file or device to probe, such as one partition inside a disk image.
public struct ProbeWindow: Sendable, Hashable {
    /// Where the window starts, in bytes from the start of the file or device.
    public var offset: UInt64
    /// How many bytes the window covers; `nil` means up to the end.
    public var size: UInt64?

    public init(offset: UInt64, size: UInt64? = nil) {
        self.offset = offset
        self.size = size
    }

    /// The window covering a partition found by an earlier probe.
    public init(_ partition: ProbedPartition) {
        self.init(offset: partition.startBytes, size: partition.sizeBytes)
    }
}

/// What libblkid found on a file or device: superblock values and the partition table, if any.
///
/// An empty report (no values, no table) means nothing recognisable was found.
public struct ProbeReport: Sendable, Hashable {
    /// The probed path.
    public var path: String
    /// The probed window, `nil` for the whole file or device.
    public var window: ProbeWindow?
    /// libblkid's values by name: TYPE, LABEL, UUID, SEC_TYPE, VERSION, USAGE, PTTYPE, PTUUID, PART_ENTRY_*.
    public var values: [String: String]
    /// The partition table, when one was found.
    public var partitionTable: ProbedPartitionTable?

    public init(path: String, window: ProbeWindow?, values: [String: String], partitionTable: ProbedPartitionTable?) {
        self.path = path
        self.window = window
        self.values = values
        self.partitionTable = partitionTable
    }

    /// True when libblkid recognised neither a filesystem nor a partition table.
    public var isEmpty: Bool { values.isEmpty && partitionTable == nil }

    /// The filesystem or content type ("vfat", "ext4", "iso9660", "swap", ...).
    public var type: String? { values["TYPE"] }
    /// The compatible secondary type (for example "msdos" for a FAT12/16 "vfat").
    public var secondaryType: String? { values["SEC_TYPE"] }
    /// The filesystem label.
    public var label: String? { values["LABEL"] }
    /// The filesystem UUID (for FAT, the volume serial as "1234-ABCD").
    public var uuid: String? { values["UUID"] }
    /// The filesystem version as libblkid reports it ("FAT32", "1.0", ...).
    public var version: String? { values["VERSION"] }
    /// What the content is used for ("filesystem", "raid", "crypto", "other").
    public var usage: String? { values["USAGE"] }
    /// The partition table type ("gpt", "dos"), from the superblock probe.
    public var partitionTableType: String? { values["PTTYPE"] }
    /// The partition table id (GPT disk GUID, or the MBR disk signature as 8 hex digits).
    public var partitionTableUUID: String? { values["PTUUID"] }
    /// The partition's own UUID (PARTUUID). libblkid reports it only for a partition device whose
    /// whole disk it can find, not for a window of an image file: use `ProbedPartition.uuid` there.
    public var partitionUUID: String? { values["PART_ENTRY_UUID"] }
}

/// A partition table as libblkid reads it.
public struct ProbedPartitionTable: Sendable, Hashable {
    /// "gpt" or "dos" (libblkid's names; "dos" is what libparted calls "msdos").
    public var type: String
    /// The disk GUID for GPT, the disk signature as 8 hex digits for dos.
    public var id: String?
    /// The partitions in table order.
    public var partitions: [ProbedPartition]

    public init(type: String, id: String?, partitions: [ProbedPartition]) {
        self.type = type
        self.id = id
        self.partitions = partitions
    }
}

/// One partition-table entry as libblkid reads it. Sectors are always 512 bytes here.
public struct ProbedPartition: Sendable, Hashable {
    /// libblkid counts in 512-byte sectors whatever the device's logical sector size.
    public static let sectorSize: UInt64 = 512

    /// The partition number (1-based, as in `/dev/sda1`).
    public var number: Int
    /// First sector (512-byte units).
    public var start: UInt64
    /// Length in sectors (512-byte units).
    public var size: UInt64
    /// The MBR partition type byte (0 for GPT entries).
    public var mbrType: UInt8
    /// The GPT partition type GUID in lower case, `nil` for MBR entries.
    public var typeGUID: String?
    /// The partition's UUID: the GPT unique partition GUID, or "<disk signature>-<nn>" for MBR.
    public var uuid: String?
    /// The GPT partition name, `nil` for MBR entries or when empty.
    public var name: String?
    /// GPT attribute bits, or the MBR boot indicator (0x80 when active).
    public var flags: UInt64

    public init(number: Int, start: UInt64, size: UInt64, mbrType: UInt8, typeGUID: String?,
                uuid: String?, name: String?, flags: UInt64) {
        self.number = number
        self.start = start
        self.size = size
        self.mbrType = mbrType
        self.typeGUID = typeGUID
        self.uuid = uuid
        self.name = name
        self.flags = flags
    }

    /// Offset of the partition in bytes.
    public var startBytes: UInt64 { start * Self.sectorSize }
    /// Size of the partition in bytes.
    public var sizeBytes: UInt64 { size * Self.sectorSize }
    /// True for an MBR entry with the boot indicator set.
    public var isActive: Bool { typeGUID == nil && flags & 0x80 != 0 }
}
