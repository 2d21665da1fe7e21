import DiskKit

/// Plans the partitions after the image's three (ESP, rootfs, edge_persistent) from the disk's table and a
/// `StorageRequest`. Reads only; every size is checked against the free space here, before anything is
/// written.
///
/// The new partitions are numbered as the EMT OS expects (today's installer's numbers): `.emt` adds
/// hashmap_a 4, hashmap_b 5, rootfs_b 6, roothash 7, swap 8, reserved 9, lvm 10; `.vm` adds rootfs_b 4,
/// swap 5, reserved 6, lvm 7 (with no swap or no reserved partition, the ones after it move up; the numbers
/// the OS relies on, 4, 6 and 7 of `.emt`, stay). They lie in that order at the end of the disk, LVM last;
/// between partition 3 and the first new one the space stays free, unless LVM takes "the rest", in which
/// case the others follow partition 3 directly and LVM fills up to the end. Every start and size is a whole
/// number of MiB.
public struct StoragePlanner: Sendable {
    /// The partitions the image brings (ESP, rootfs, edge_persistent).
    public static let imagePartitionNumbers = 1 ... 3
    /// The rootfs the dm-verity hash tree covers.
    public static let rootfsPartitionNumber = 2
    /// The smallest LVM partition "the rest of the disk" may leave.
    public static let minimumRestLVMMiB: Int64 = 1024

    static let hashmapMiB: Int64 = 100
    static let roothashMiB: Int64 = 50
    static let emtRootfsBMiB: Int64 = 4096
    static let vmRootfsBMiB: Int64 = 3072

    public var request: StorageRequest

    public init(request: StorageRequest) {
        self.request = request
    }

    /// The partitions of the layout other than LVM, in order, with their sizes in MiB (swap and reserved
    /// left out when their size is 0).
    public var fixedPartitions: [(role: PartitionRole, sizeMiB: Int64)] {
        let swap = request.swapMiB
        let reserved = Int64(request.reservedMB)
        let all: [(role: PartitionRole, sizeMiB: Int64)]
        switch request.layout {
        case .emt:
            all = [(.hashmapA, Self.hashmapMiB), (.hashmapB, Self.hashmapMiB), (.rootfsB, Self.emtRootfsBMiB),
                   (.roothash, Self.roothashMiB), (.swap, swap), (.reserved, reserved)]
        case .vm:
            all = [(.rootfsB, Self.vmRootfsBMiB), (.swap, swap), (.reserved, reserved)]
        case .none:
            all = []
        }
        return all.filter { $0.sizeMiB > 0 }
    }

    /// Reads the table of `disk` (a device node or an image file) with DiskKit and plans.
    /// - Parameter devicePath: the disk's device node when `disk` is an image standing in for it; partition
    ///   nodes in the commands are named after it.
    /// - Throws: `StorageError` (`.partitionTable`, `.unexpectedTable`, `.doesNotFit`, `.invalidRequest`).
    public func plan(disk: String, devicePath: String? = nil) throws(StorageError) -> StoragePlan {
        let problems = request.problems
        guard problems.isEmpty else { throw .invalidRequest(problems) }
        let table: PartitionTable
        do {
            table = try DiskDevice(path: disk).readPartitionTable()
        } catch {
            throw .partitionTable(error)
        }
        return try plan(table: table, devicePath: devicePath ?? disk)
    }

    /// Plans against a table already read.
    public func plan(table: PartitionTable, devicePath: String) throws(StorageError) -> StoragePlan {
        let disk = table.device.path
        let facts = table.device.facts
        let problems = request.problems
        guard problems.isEmpty else { throw .invalidRequest(problems) }
        guard table.type == .gpt else {
            throw .unexpectedTable(disk: disk, detail: "a \(table.type) partition table, not the image's GPT")
        }
        let existing = table.partitions
        let kept = try Self.imagePartitions(existing, disk: disk).map { part in
            StoragePlan.KeptPartition(number: part.number, name: part.name, start: part.start, end: part.end,
                                      devicePath: PartitionNode.path(disk: devicePath, number: part.number))
        }

        let sectorsPerMiB = (1 << 20) / facts.sectorSize
        let lastEnd = existing.map(\.end).max() ?? 0
        // The usable space after the image: libparted's free range behind its last partition (it ends before
        // the backup GPT).
        let usableEnd = table.freeSpace.filter { $0.lowerBound > lastEnd }.map(\.upperBound).max() ?? lastEnd
        let firstMiB = (lastEnd + 1 + sectorsPerMiB - 1) / sectorsPerMiB
        let endMiB = (usableEnd + 1) / sectorsPerMiB
        let freeMiB = max(endMiB - firstMiB, 0)

        let fixed = fixedPartitions
        var partitions: [PlannedPartition] = []
        var unused = freeMiB
        if !fixed.isEmpty {
            let fixedMiB = fixed.reduce(0) { $0 + $1.sizeMiB }
            let pieces = fixed.map { "\($0.role.partitionName) \($0.sizeMiB)" }.joined(separator: ", ")
            guard fixedMiB <= freeMiB else {
                throw .doesNotFit(disk: disk, what: "the \(request.layout.rawValue) layout after partition \(kept.count)",
                                  neededMiB: fixedMiB, freeMiB: freeMiB, detail: "MiB: \(pieces)")
            }
            let lvmMiB: Int64
            let startMiB: Int64
            switch request.lvmSizeGB {
            case nil:
                lvmMiB = freeMiB - fixedMiB
                guard lvmMiB >= Self.minimumRestLVMMiB else {
                    throw .doesNotFit(disk: disk, what: "LVM on the rest of the disk", neededMiB: Self.minimumRestLVMMiB,
                                      freeMiB: lvmMiB, detail: "the layout takes \(fixedMiB) MiB (\(pieces)) of "
                                          + "\(freeMiB) MiB free; set the LVM size to 0 for no LVM")
                }
                startMiB = firstMiB
            case let size?:
                lvmMiB = StorageRequest.mebibytes(gibibytes: size)
                guard fixedMiB + lvmMiB <= freeMiB else {
                    throw .doesNotFit(disk: disk, what: "LVM of \(size) GB", neededMiB: lvmMiB, freeMiB: freeMiB - fixedMiB,
                                      detail: "the layout takes \(fixedMiB) MiB (\(pieces)) of \(freeMiB) MiB free")
                }
                startMiB = endMiB - lvmMiB - fixedMiB
            }
            var all = fixed
            if lvmMiB > 0 { all.append((role: .lvm, sizeMiB: lvmMiB)) }
            var number = kept.count + 1
            var at = startMiB
            for (role, size) in all {
                partitions.append(PlannedPartition(number: number, role: role, start: at * sectorsPerMiB,
                                                   end: (at + size) * sectorsPerMiB - 1, sizeMiB: size,
                                                   devicePath: PartitionNode.path(disk: devicePath, number: number)))
                number += 1
                at += size
            }
            unused = freeMiB - fixedMiB - lvmMiB
        }

        let rootfs = PartitionNode.path(disk: devicePath, number: Self.rootfsPartitionNumber)
        return StoragePlan(request: request, disk: disk, devicePath: devicePath, sectorSize: facts.sectorSize,
                           diskSectors: facts.length, kept: kept, partitions: partitions,
                           commands: Self.commands(partitions, rootfs: rootfs, devicePath: devicePath,
                                                   joining: request.extraPhysicalVolumes),
                           freeMiB: freeMiB, unusedMiB: unused)
    }

    /// The image's partitions 1-3; anything else on the table is refused, since the new partitions' numbers
    /// must come out as the OS expects.
    static func imagePartitions(_ partitions: [Partition], disk: String) throws(StorageError) -> [Partition] {
        if let extra = partitions.first(where: { !imagePartitionNumbers.contains($0.number) }) {
            throw .unexpectedTable(disk: disk, detail: "partition \(extra.number)"
                + (extra.name.map { " \"\($0)\"" } ?? "") + " already exists; the image should leave only partitions "
                + "1-3 (ESP, rootfs, edge_persistent)")
        }
        let numbers = Set(partitions.map(\.number))
        let missing = imagePartitionNumbers.filter { !numbers.contains($0) }
        guard missing.isEmpty else {
            throw .unexpectedTable(disk: disk, detail: "no partition " + missing.map(String.init).joined(separator: ", ")
                + "; the image should leave partitions 1-3 (ESP, rootfs, edge_persistent)")
        }
        return partitions.sorted { $0.number < $1.number }
    }

    static func commands(_ partitions: [PlannedPartition], rootfs: String, devicePath: String,
                         joining: [String] = []) -> [StorageCommand] {
        func node(_ role: PartitionRole) -> String? { partitions.first { $0.role == role }?.devicePath }
        var commands: [StorageCommand] = []
        if let swap = node(.swap) { commands.append(.makeSwap(device: swap)) }
        if let rootfsB = node(.rootfsB) {
            commands.append(.makeExt4(device: rootfsB, label: PartitionRole.rootfsB.partitionName))
        }
        if let lvm = node(.lvm) {
            let name = StorageRequest.volumeGroupName
            commands += [.clearVolumeGroup(name: name, disk: devicePath, joining: joining),
                         .createPhysicalVolume(device: lvm), .createVolumeGroup(name: name, device: lvm)]
            for disk in joining {
                commands += [.wipeSignatures(device: disk), .createPhysicalVolume(device: disk),
                             .extendVolumeGroup(name: name, device: disk)]
            }
        }
        if let hashmap = node(.hashmapA), let roothash = node(.roothash) {
            commands += [.formatVerity(data: rootfs, hash: hashmap), .storeRootHash(device: roothash)]
        }
        return commands
    }
}
