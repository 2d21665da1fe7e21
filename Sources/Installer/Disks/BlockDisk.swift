/// A whole disk as sysfs describes it (`/sys/block/<name>`), with its partitions and what uses them.
public struct BlockDisk: Sendable, Equatable, Codable {
    /// Kernel name (`sda`, `nvme0n1`, `vda`).
    public var name: String
    /// The device node (`/dev/sda`).
    public var devicePath: String
    /// Size in bytes (sysfs counts 512-byte sectors whatever the disk's own sector size).
    public var sizeBytes: UInt64
    /// The logical sector size partition tables are laid out in.
    public var logicalSectorSize: Int
    public var removable: Bool
    public var readOnly: Bool
    /// `true` for a spinning disk, `nil` when sysfs does not say.
    public var rotational: Bool?
    public var vendor: String?
    public var model: String?
    public var serial: String?
    public var transport: DiskTransport
    /// Where sysfs places the device (`/sys/devices/...`), for explanations.
    public var sysfsPath: String
    /// Whole-disk mounts (a file system without a partition table).
    public var mountPoints: [String]
    /// Devices stacked on the whole disk.
    public var holders: [String]
    /// Whether the whole disk is an active swap device.
    public var isSwap: Bool
    /// sysfs marks the device hidden (a path of a multipath NVMe namespace, used only through its head).
    public var isHidden: Bool
    public var partitions: [BlockPartition]

    public init(name: String, devicePath: String, sizeBytes: UInt64, logicalSectorSize: Int = 512,
                removable: Bool = false, readOnly: Bool = false, rotational: Bool? = nil, vendor: String? = nil,
                model: String? = nil, serial: String? = nil, transport: DiskTransport = .unknown,
                sysfsPath: String = "", mountPoints: [String] = [], holders: [String] = [], isSwap: Bool = false,
                isHidden: Bool = false, partitions: [BlockPartition] = []) {
        self.name = name
        self.devicePath = devicePath
        self.sizeBytes = sizeBytes
        self.logicalSectorSize = logicalSectorSize
        self.removable = removable
        self.readOnly = readOnly
        self.rotational = rotational
        self.vendor = vendor
        self.model = model
        self.serial = serial
        self.transport = transport
        self.sysfsPath = sysfsPath
        self.mountPoints = mountPoints
        self.holders = holders
        self.isSwap = isSwap
        self.isHidden = isHidden
        self.partitions = partitions
    }

    /// The disk's name and every partition's name.
    public var allNames: [String] { [name] + partitions.map(\.name) }

    /// Vendor and model as one label ("Samsung SSD 980", "QEMU HARDDISK"), without the generic "ATA"
    /// vendor of SATA disks or PCI vendor numbers.
    public var displayModel: String {
        let vendorPart = vendor.flatMap { $0 == "ATA" || $0.hasPrefix("0x") || $0.isEmpty ? nil : $0 }
        let parts = [vendorPart, model].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    /// The kind of a virtual or special block device that is never an install target, from its name and
    /// sysfs path; `nil` for a real disk.
    public var virtualKind: String? {
        func numbered(_ prefix: String) -> Bool {
            name.hasPrefix(prefix) && name.count > prefix.count && name.dropFirst(prefix.count).allSatisfy(\.isNumber)
        }
        if numbered("loop") { return "loop device" }
        if numbered("zram") { return "compressed RAM disk (zram)" }
        if numbered("ram") { return "RAM disk" }
        if numbered("dm-") { return "device-mapper device" }
        if numbered("md") || name.hasPrefix("md_") { return "software RAID device (md)" }
        if numbered("sr") { return "optical drive" }
        if numbered("fd") { return "floppy drive" }
        if numbered("nbd") { return "network block device" }
        if name.hasPrefix("mmcblk"), name.contains("boot") { return "eMMC boot area" }
        if name.hasPrefix("mmcblk"), name.hasSuffix("rpmb") { return "eMMC replay-protected area" }
        if isHidden { return "hidden multipath device" }
        // A native NVMe multipath head sits under /devices/virtual/nvme-subsystem/ yet is the real disk.
        if sysfsPath.contains("/devices/virtual/"), !sysfsPath.contains("/nvme-subsystem/") {
            return "virtual block device"
        }
        return nil
    }
}
