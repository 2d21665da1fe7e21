/// Every whole disk of the machine, read from sysfs, with mounts, swaps and holders attached.
public struct DiskInventory: Sendable, Equatable {
    public var disks: [BlockDisk]

    public init(disks: [BlockDisk]) {
        self.disks = disks
    }

    /// Reads `/sys/block` (under `paths.sysfs`) and the mount table (under `paths.proc`).
    /// - Throws: `TargetError.noBlockDevices` when `/sys/block` cannot be listed.
    public static func scan(_ paths: HostPaths) throws(TargetError) -> DiskInventory {
        guard SysfsFiles.isDirectory(paths.blockDirectory) else {
            throw .noBlockDevices(path: paths.blockDirectory)
        }
        let mounts = MountTable.read(paths)
        let disks = SysfsFiles.list(paths.blockDirectory).map { readDisk($0, paths: paths, mounts: mounts) }
        return DiskInventory(disks: disks)
    }

    /// The disk named `name`.
    public func disk(named name: String) -> BlockDisk? { disks.first { $0.name == name } }

    /// The disk holding partition `name`.
    public func disk(withPartition name: String) -> BlockDisk? {
        disks.first { $0.partitions.contains { $0.name == name } }
    }

    static func readDisk(_ name: String, paths: HostPaths, mounts: MountTable) -> BlockDisk {
        let directory = paths.blockDirectory + "/" + name
        let canonical = SysfsFiles.canonical(directory)
            ?? SysfsFiles.linkTarget(directory).map { SysfsFiles.resolve(linkTarget: $0, relativeTo: directory) }
            ?? directory
        let device = directory + "/device"
        var partitions: [BlockPartition] = []
        for entry in SysfsFiles.list(directory) {
            let partitionDirectory = directory + "/" + entry
            guard let number = SysfsFiles.unsigned(partitionDirectory + "/partition") else { continue }
            partitions.append(BlockPartition(
                name: entry, number: Int(number),
                sizeBytes: (SysfsFiles.unsigned(partitionDirectory + "/size") ?? 0) * 512,
                mountPoints: mounts.mountPoints(name: entry, deviceNumber: SysfsFiles.text(partitionDirectory + "/dev"),
                                                paths: paths),
                holders: SysfsFiles.list(partitionDirectory + "/holders"),
                isSwap: mounts.isSwap(name: entry, paths: paths)))
        }
        partitions.sort { $0.number < $1.number }
        let rotational = SysfsFiles.flag(directory + "/queue/rotational")
        return BlockDisk(
            name: name,
            devicePath: paths.devicePath(name),
            sizeBytes: (SysfsFiles.unsigned(directory + "/size") ?? 0) * 512,
            logicalSectorSize: SysfsFiles.unsigned(directory + "/queue/logical_block_size").map(Int.init) ?? 512,
            removable: SysfsFiles.flag(directory + "/removable") ?? false,
            readOnly: SysfsFiles.flag(directory + "/ro") ?? false,
            rotational: rotational,
            vendor: nonEmpty(SysfsFiles.text(device + "/vendor")),
            model: nonEmpty(SysfsFiles.text(device + "/model")),
            serial: nonEmpty(SysfsFiles.text(directory + "/serial") ?? SysfsFiles.text(device + "/serial")),
            transport: DiskTransport.detect(sysfsPath: canonical),
            sysfsPath: canonical,
            mountPoints: mounts.mountPoints(name: name, deviceNumber: SysfsFiles.text(directory + "/dev"), paths: paths),
            holders: SysfsFiles.list(directory + "/holders"),
            isSwap: mounts.isSwap(name: name, paths: paths),
            isHidden: SysfsFiles.flag(directory + "/hidden") ?? false,
            partitions: partitions)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
