import Foundation

/// A tool run on the new partitions once they exist.
public enum StorageCommand: Sendable, Equatable {
    /// `mkswap -L swap <device>`.
    case makeSwap(device: String)
    /// `mkfs.ext4 -F -L <label> <device>`.
    case makeExt4(device: String, label: String)
    /// `veritysetup format <data> <hash>`: the hash tree of the rootfs; its root hash goes to the roothash
    /// partition.
    case formatVerity(data: String, hash: String)
    /// An ext4 file system labelled `roothash` holding the root hash (hex and a newline) in
    /// `StoragePlan.rootHashFileName`, made with `mkfs.ext4 -d` from a staging directory: the EMT initramfs
    /// mounts the partition and reads that file.
    case storeRootHash(device: String)
    /// `vgs` for the volume group: when it lives on the target disk only (and the disks named to join it),
    /// `vgremove` it; when it uses another disk, stop (other disks are never touched).
    case clearVolumeGroup(name: String, disk: String, joining: [String] = [])
    /// `pvcreate -ff -y <device>`.
    case createPhysicalVolume(device: String)
    /// `vgcreate <name> <device>`.
    case createVolumeGroup(name: String, device: String)
    /// `wipefs -a <device>`: a disk that joins the volume group loses its old signatures (partition table,
    /// file systems) first, or pvcreate refuses it.
    case wipeSignatures(device: String)
    /// `vgextend <name> <device>`.
    case extendVolumeGroup(name: String, device: String)

    /// The command line as it runs (the root hash store shows its staging directory as `<staging>`; the
    /// volume group check shows its query).
    public var arguments: [String] {
        switch self {
        case .makeSwap(let device): ["mkswap", "-L", "swap", device]
        case .makeExt4(let device, let label): ["mkfs.ext4", "-F", "-L", label, device]
        case .formatVerity(let data, let hash): ["veritysetup", "format", data, hash]
        case .storeRootHash(let device): Self.storeRootHashArguments(device: device, staging: "<staging>")
        case .clearVolumeGroup(let name, _, _): Self.volumeGroupQuery(name)
        case .createPhysicalVolume(let device): ["pvcreate", "-ff", "-y", device]
        case .createVolumeGroup(let name, let device): ["vgcreate", name, device]
        case .wipeSignatures(let device): ["wipefs", "-a", device]
        case .extendVolumeGroup(let name, let device): ["vgextend", name, device]
        }
    }

    /// What it does, in words.
    public var summary: String {
        switch self {
        case .makeSwap(let device): "make swap on \(device)"
        case .makeExt4(let device, let label): "make ext4 \"\(label)\" on \(device)"
        case .formatVerity(let data, let hash): "compute the dm-verity hash tree of \(data) onto \(hash)"
        case .storeRootHash(let device):
            "store the root hash on \(device) (ext4 \"roothash\", file \(StoragePlan.rootHashFileName))"
        case .clearVolumeGroup(let name, let disk, let joining):
            "remove an old volume group \(name) if it lives on \(([disk] + joining).joined(separator: ", ")) only "
                + "(never one using another disk)"
        case .createPhysicalVolume(let device): "make \(device) an LVM physical volume"
        case .createVolumeGroup(let name, let device): "create volume group \(name) on \(device)"
        case .wipeSignatures(let device): "wipe the old signatures of \(device)"
        case .extendVolumeGroup(let name, let device): "add \(device) to volume group \(name)"
        }
    }

    /// Whether the command belongs to the rootfs seal (run after everything that writes rootfs A).
    public var sealsRootfs: Bool {
        switch self {
        case .formatVerity, .storeRootHash: true
        default: false
        }
    }

    static func storeRootHashArguments(device: String, staging: String) -> [String] {
        ["mkfs.ext4", "-F", "-L", "roothash", "-d", staging, device]
    }

    static func volumeGroupQuery(_ name: String) -> [String] {
        ["vgs", "--noheadings", "--separator", "|", "-o", "vg_name,pv_name", name]
    }
}

/// What the storage step will do to the installed disk: the partitions to add, in order, and the commands
/// to run after. Built by `StoragePlanner` from the disk's table (nothing written), carried out by
/// `StorageApplier`.
public struct StoragePlan: Sendable, Equatable {
    /// The file on the roothash partition that holds rootfs A's root hash (the EMT initramfs reads it).
    public static let rootHashFileName = "part_a_roothash"

    /// A partition the image already made (kept as it is).
    public struct KeptPartition: Sendable, Equatable {
        public var number: Int
        public var name: String?
        public var start: Int64
        public var end: Int64
        public var devicePath: String

        public init(number: Int, name: String?, start: Int64, end: Int64, devicePath: String) {
            self.number = number
            self.name = name
            self.start = start
            self.end = end
            self.devicePath = devicePath
        }
    }

    public var request: StorageRequest
    /// What libparted opens: the disk's device node, or an image file.
    public var disk: String
    /// The disk's device node (`/dev/nvme0n1`): partition nodes are named after it.
    public var devicePath: String
    public var sectorSize: Int64
    /// The disk's length in sectors.
    public var diskSectors: Int64
    /// The image's partitions, kept.
    public var kept: [KeptPartition]
    /// The partitions to add, in the order to add them (which is their numbering).
    public var partitions: [PlannedPartition]
    /// The tools to run once the partitions exist: preparation first, then the rootfs seal.
    public var commands: [StorageCommand]
    /// The free space after the image's partitions before the plan, in MiB.
    public var freeMiB: Int64
    /// The free space the plan leaves unused, in MiB.
    public var unusedMiB: Int64

    public init(request: StorageRequest, disk: String, devicePath: String, sectorSize: Int64, diskSectors: Int64,
                kept: [KeptPartition], partitions: [PlannedPartition], commands: [StorageCommand], freeMiB: Int64,
                unusedMiB: Int64) {
        self.request = request
        self.disk = disk
        self.devicePath = devicePath
        self.sectorSize = sectorSize
        self.diskSectors = diskSectors
        self.kept = kept
        self.partitions = partitions
        self.commands = commands
        self.freeMiB = freeMiB
        self.unusedMiB = unusedMiB
    }

    /// The planned partition of `role`, if the layout has one.
    public func partition(_ role: PartitionRole) -> PlannedPartition? {
        partitions.first { $0.role == role }
    }

    /// The commands that prepare the new partitions (file systems, swap, LVM).
    public var preparationCommands: [StorageCommand] { commands.filter { !$0.sealsRootfs } }
    /// The commands that seal rootfs A with dm-verity: to run after the last write to it.
    public var sealCommands: [StorageCommand] { commands.filter(\.sealsRootfs) }

    /// The whole disk as it will be, one line per partition (a header first).
    public var table: [String] {
        let mebibyte = (1 << 20) / sectorSize
        func row(_ number: Int, _ name: String, _ start: Int64, _ end: Int64, _ type: String, _ note: String) -> String {
            let size = end - start + 1
            let sizeText = size % mebibyte == 0 ? "\(size / mebibyte) MiB" : "\(size * sectorSize) B"
            return pad(String(number), 3) + pad(name, 17) + pad(String(start), 13, right: true) + "  "
                + pad(String(end), 13, right: true) + "  " + pad(sizeText, 12, right: true) + "  " + pad(type, 18) + note
        }
        var lines = [pad("#", 3) + pad("name", 17) + pad("start", 13, right: true) + "  " + pad("end", 13, right: true)
            + "  " + pad("size", 12, right: true) + "  " + pad("type", 18) + "purpose"]
        for part in kept {
            lines.append(row(part.number, part.name ?? "-", part.start, part.end, "(image)", "kept as the image made it"))
        }
        for part in partitions {
            var note = part.role.purpose
            if part.role.type != part.role.wantedType { note += " (type \(part.role.wantedType.label) wanted)" }
            lines.append(row(part.number, part.name, part.start, part.end, part.role.type.label, note))
        }
        lines.append("free space after the image \(freeMiB) MiB; left unused \(unusedMiB) MiB; sectors of \(sectorSize) B")
        return lines
    }

    /// The plan in words: the partitions, then each command.
    public var steps: [String] {
        guard !partitions.isEmpty else { return ["storage layout \"none\": the disk stays as the image left it"] }
        var lines = partitions.map { part in
            "add partition \(part.number) \"\(part.name)\" (\(part.sizeMiB) MiB, \(part.role.type.label)) at sectors "
                + "\(part.start)...\(part.end): \(part.role.purpose)"
        }
        lines += commands.map { "\($0.summary): \($0.arguments.joined(separator: " "))" }
        return lines
    }
}

private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    guard text.count < width else { return text + " " }
    let fill = String(repeating: " ", count: width - text.count)
    return right ? fill + text : text + fill
}
