/// A partition table (disk label) type, by libparted's name.
public struct PartitionTableType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// GUID Partition Table.
    public static let gpt = PartitionTableType(rawValue: "gpt")
    /// MBR ("dos" in libblkid).
    public static let msdos = PartitionTableType(rawValue: "msdos")
    /// libparted's pseudo table for a device holding a bare filesystem: one partition spanning it all.
    public static let loop = PartitionTableType(rawValue: "loop")

    public var description: String { rawValue }
}

/// A partition flag, by libparted's name. On GPT, `boot` and `esp` both mean the EFI System type GUID.
public enum PartitionFlag: String, CaseIterable, Hashable, Sendable {
    case boot
    case root
    case swap
    case hidden
    case raid
    case lvm
    case lba
    case hpService = "hp-service"
    case palo
    case prep
    case msftReserved = "msftres"
    case biosGrub = "bios_grub"
    case appleTVRecovery = "atvrecv"
    case diag
    case legacyBoot = "legacy_boot"
    case msftData = "msftdata"
    case irst
    case esp
    case chromeOSKernel = "chromeos_kernel"
    case blsBoot = "bls_boot"
    case linuxHome = "linux-home"
}

/// A partition to create, by sector range.
public struct PartitionSpec: Sendable, Hashable {
    /// First sector (in the device's logical sectors).
    public var start: Int64
    /// Last sector, inclusive.
    public var end: Int64
    /// A libparted filesystem type name ("fat32", "ext4", "linux-swap", ...) choosing the GPT type GUID
    /// or MBR type byte; `nil` for Linux data. It does not create a filesystem.
    public var fileSystemType: String?
    /// The GPT partition name; must be `nil` for MBR tables.
    public var name: String?
    /// Flags to set after creation (for example `.esp`, `.boot`, `.biosGrub`).
    public var flags: Set<PartitionFlag>

    public init(start: Int64, end: Int64, fileSystemType: String? = nil, name: String? = nil,
                flags: Set<PartitionFlag> = []) {
        self.start = start
        self.end = end
        self.fileSystemType = fileSystemType
        self.name = name
        self.flags = flags
    }

    /// Length in sectors.
    public var length: Int64 { end - start + 1 }
}

/// A partition as libparted reads it from a table.
public struct Partition: Sendable, Hashable {
    /// Primary, logical or extended (MBR); always primary on GPT.
    public enum Kind: Sendable, Hashable {
        case primary, logical, extended
    }

    /// The partition number (1-based, as in `/dev/sda1`).
    public var number: Int
    /// Primary, logical or extended.
    public var kind: Kind
    /// First sector.
    public var start: Int64
    /// Last sector, inclusive.
    public var end: Int64
    /// Length in sectors.
    public var length: Int64
    /// The device's logical sector size in bytes.
    public var sectorSize: Int64
    /// The filesystem libparted recognised in the partition (or the type it was created with), if any.
    public var fileSystemType: String?
    /// The GPT partition name (`nil` on tables without names, or when empty).
    public var name: String?
    /// The flags that are set.
    public var flags: Set<PartitionFlag>

    public init(number: Int, kind: Kind, start: Int64, end: Int64, length: Int64, sectorSize: Int64,
                fileSystemType: String?, name: String?, flags: Set<PartitionFlag>) {
        self.number = number
        self.kind = kind
        self.start = start
        self.end = end
        self.length = length
        self.sectorSize = sectorSize
        self.fileSystemType = fileSystemType
        self.name = name
        self.flags = flags
    }

    /// Offset of the partition in bytes.
    public var startBytes: Int64 { start * sectorSize }
    /// Size of the partition in bytes.
    public var sizeBytes: Int64 { length * sectorSize }
}

/// What libparted knows about a device or image file.
public struct DeviceFacts: Sendable, Hashable {
    /// The path libparted resolved (symlinks followed).
    public var path: String
    /// The model string (a description for image files).
    public var model: String
    /// Logical sector size in bytes.
    public var sectorSize: Int64
    /// Physical sector size in bytes.
    public var physicalSectorSize: Int64
    /// Length in logical sectors.
    public var length: Int64
    /// True for a block device, false for a regular (image) file.
    public var isBlockDevice: Bool
    /// True when libparted could only open the device read-only.
    public var isReadOnly: Bool

    public init(path: String, model: String, sectorSize: Int64, physicalSectorSize: Int64, length: Int64,
                isBlockDevice: Bool, isReadOnly: Bool) {
        self.path = path
        self.model = model
        self.sectorSize = sectorSize
        self.physicalSectorSize = physicalSectorSize
        self.length = length
        self.isBlockDevice = isBlockDevice
        self.isReadOnly = isReadOnly
    }

    /// Size in bytes.
    public var sizeBytes: Int64 { length * sectorSize }
}
