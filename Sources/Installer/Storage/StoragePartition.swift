import DiskKit

/// What a partition added after the image is for. The raw value is its GPT partition name.
///
/// The EMT OS finds these partitions by number (its initramfs opens `hashmap_a` as partition 4 and reads the
/// root hash from partition 7; its A/B update writes rootfs B as partition 6), so the layouts add them in a
/// fixed order; see `StoragePlanner`.
public enum PartitionRole: String, Sendable, CaseIterable, Codable {
    case hashmapA = "hashmap_a"
    case hashmapB = "hashmap_b"
    case rootfsB = "rootfs_b"
    case roothash
    case swap
    case reserved
    case lvm

    /// The GPT partition name.
    public var partitionName: String { rawValue }

    /// What the partition holds, for the plan.
    public var purpose: String {
        switch self {
        case .hashmapA: "dm-verity hash tree of rootfs A (partition 2)"
        case .hashmapB: "dm-verity hash tree of rootfs B (written by an A/B update)"
        case .rootfsB: "rootfs B for A/B updates (ext4)"
        case .roothash: "rootfs A's dm-verity root hash (ext4, file \(StoragePlan.rootHashFileName))"
        case .swap: "swap"
        case .reserved: "reserved"
        case .lvm: "LVM physical volume of volume group \(StorageRequest.volumeGroupName)"
        }
    }

    /// The GPT type the partition should carry.
    public var wantedType: GPTPartitionType {
        switch self {
        case .swap: .linuxSwap
        case .lvm: .linuxLVM
        case .reserved: .linuxReserved
        default: .linuxFilesystem
        }
    }

    /// The GPT type DiskKit (libparted 3.5) gives it. libparted has no way to set the Linux reserved type,
    /// so `reserved` is Linux filesystem data, as in today's installer.
    public var type: GPTPartitionType {
        wantedType == .linuxReserved ? .linuxFilesystem : wantedType
    }
}

/// The GPT partition type GUIDs the layouts use.
public enum GPTPartitionType: String, Sendable, Codable {
    case linuxFilesystem = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
    case linuxSwap = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
    case linuxLVM = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
    case linuxReserved = "8DA63339-0007-60C0-C436-083AC8230908"

    /// The type GUID.
    public var guid: String { rawValue }

    /// A short name (`Linux swap`).
    public var label: String {
        switch self {
        case .linuxFilesystem: "Linux filesystem"
        case .linuxSwap: "Linux swap"
        case .linuxLVM: "Linux LVM"
        case .linuxReserved: "Linux reserved"
        }
    }
}

/// A partition the plan adds, with its final number and place.
public struct PlannedPartition: Sendable, Equatable {
    /// The partition number it gets (libparted gives the lowest free number, so the add order decides).
    public var number: Int
    public var role: PartitionRole
    /// First sector (MiB-aligned).
    public var start: Int64
    /// Last sector, inclusive.
    public var end: Int64
    /// The size in MiB.
    public var sizeMiB: Int64
    /// Its device node (`/dev/nvme0n1p4`).
    public var devicePath: String

    public init(number: Int, role: PartitionRole, start: Int64, end: Int64, sizeMiB: Int64, devicePath: String) {
        self.number = number
        self.role = role
        self.start = start
        self.end = end
        self.sizeMiB = sizeMiB
        self.devicePath = devicePath
    }

    /// The GPT partition name.
    public var name: String { role.partitionName }

    /// What DiskKit is asked to create: the swap type through libparted's `linux-swap` file system type,
    /// the LVM type through its `lvm` flag, Linux filesystem data otherwise.
    public var spec: PartitionSpec {
        switch role.type {
        case .linuxSwap: PartitionSpec(start: start, end: end, fileSystemType: "linux-swap(v1)", name: name)
        case .linuxLVM: PartitionSpec(start: start, end: end, name: name, flags: [.lvm])
        default: PartitionSpec(start: start, end: end, name: name)
        }
    }
}

/// Kernel device node names of partitions.
public enum PartitionNode {
    /// The node of partition `number` of the disk at `diskPath`: a `p` goes between a disk name ending in a
    /// digit and the number (`/dev/nvme0n1p3`, `/dev/mmcblk0p3`, `/dev/loop0p3`), none otherwise
    /// (`/dev/sda3`, `/dev/vda3`).
    public static func path(disk diskPath: String, number: Int) -> String {
        let separator = diskPath.last?.isNumber == true ? "p" : ""
        return diskPath + separator + String(number)
    }

    /// The partition number when `path` is a partition node of the disk at `diskPath`, else `nil`.
    public static func number(of path: String, onDisk diskPath: String) -> Int? {
        let prefix = diskPath + (diskPath.last?.isNumber == true ? "p" : "")
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        guard !rest.isEmpty, rest.allSatisfy(\.isASCII), rest.allSatisfy(\.isNumber) else { return nil }
        return Int(rest)
    }
}
