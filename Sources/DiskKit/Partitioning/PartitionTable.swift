import CParted

/// A partition table of a `DiskDevice`, read from it or newly created, edited in memory until `commit()`.
public final class PartitionTable {
    /// The device the table belongs to.
    public let device: DiskDevice
    private let disk: UnsafeMutablePointer<PedDisk>

    init(device: DiskDevice, disk: UnsafeMutablePointer<PedDisk>) {
        self.device = device
        self.disk = disk
    }

    // Runs inside PartedSession.run.
    convenience init(reading device: DiskDevice) throws(PartedError) {
        let session = PartedSession.shared
        guard ped_disk_probe(device.handle) != nil else {
            let error = session.failure(.readPartitionTable, path: device.path)
            if error.messages.isEmpty {
                throw PartedError(operation: .readPartitionTable, path: device.path, reason: .noPartitionTable,
                                  detail: "no partition table recognised (unrecognised disk label)")
            }
            throw error
        }
        guard let disk = ped_disk_new(device.handle) else {
            throw session.failure(.readPartitionTable, path: device.path)
        }
        self.init(device: device, disk: disk)
    }

    deinit {
        let disk = self.disk
        PartedSession.shared.run { ped_disk_destroy(disk) }
    }

    /// The table type (`.gpt`, `.msdos`, ...).
    public var type: PartitionTableType {
        PartedSession.shared.run { PartitionTableType(rawValue: String(cString: disk.pointee.type.pointee.name)) }
    }

    /// The partitions in disk order, without libparted's free-space and metadata pseudo partitions.
    public var partitions: [Partition] {
        PartedSession.shared.run {
            var result: [Partition] = []
            var current = ped_disk_next_partition(disk, nil)
            while let part = current {
                if part.pointee.num > 0 && part.pointee.type.rawValue & Self.pseudoKinds == 0 {
                    result.append(describe(part))
                }
                current = ped_disk_next_partition(disk, part)
            }
            return result
        }
    }

    /// The unallocated sector ranges libparted sees (inside the table's usable area).
    public var freeSpace: [ClosedRange<Int64>] {
        PartedSession.shared.run {
            var result: [ClosedRange<Int64>] = []
            var current = ped_disk_next_partition(disk, nil)
            while let part = current {
                if part.pointee.type.rawValue & PED_PARTITION_FREESPACE.rawValue != 0 {
                    result.append(Int64(part.pointee.geom.start)...Int64(part.pointee.geom.end))
                }
                current = ped_disk_next_partition(disk, part)
            }
            return result
        }
    }

    /// Adds a primary partition covering exactly `spec.start...spec.end`, then names it and sets its flags.
    /// The change is in memory until `commit()`.
    /// - Throws: `PartedError`: `.unsupported` for an unknown filesystem type, a name on a table without
    ///   names, or a flag the table does not offer; `.libraryFailure` when the range does not fit
    ///   (overlap, outside the usable area). Nothing is added when it throws.
    @discardableResult
    public func add(_ spec: PartitionSpec) throws(PartedError) -> Partition {
        let session = PartedSession.shared
        let path = device.path
        return try session.run { () throws(PartedError) -> Partition in
            var fileSystemType: UnsafePointer<PedFileSystemType>?
            if let name = spec.fileSystemType {
                guard let found = ped_file_system_type_get(name) else {
                    throw PartedError(operation: .addPartition, path: path, reason: .unsupported,
                                      detail: "unknown filesystem type \"\(name)\"")
                }
                fileSystemType = UnsafePointer(found)
            }
            if spec.name != nil && !supportsNames {
                throw PartedError(operation: .setPartitionName, path: path, reason: .unsupported,
                                  detail: "\(type) partition tables have no partition names")
            }
            guard spec.start >= 0, spec.end >= spec.start else {
                throw PartedError(operation: .addPartition, path: path, reason: .unsupported,
                                  detail: "invalid sector range \(spec.start)...\(spec.end)")
            }
            guard let part = ped_partition_new(disk, PED_PARTITION_NORMAL, fileSystemType,
                                               PedSector(spec.start), PedSector(spec.end)) else {
                throw session.failure(.addPartition, path: path, detail: "sectors \(spec.start)...\(spec.end)")
            }
            guard let constraint = ped_constraint_exact(&part.pointee.geom) else {
                ped_partition_destroy(part)
                throw session.failure(.addPartition, path: path, detail: "sectors \(spec.start)...\(spec.end)")
            }
            let added = ped_disk_add_partition(disk, part, constraint)
            ped_constraint_destroy(constraint)
            guard added != 0 else {
                ped_partition_destroy(part)
                throw session.failure(.addPartition, path: path, code: added,
                                      detail: "sectors \(spec.start)...\(spec.end) do not fit")
            }
            do throws(PartedError) {
                if let name = spec.name {
                    let named = ped_partition_set_name(part, name)
                    guard named != 0 else {
                        throw session.failure(.setPartitionName, path: path, code: named, detail: "name \"\(name)\"")
                    }
                }
                for flag in PartitionFlag.allCases where spec.flags.contains(flag) {
                    let pedFlag = ped_partition_flag_get_by_name(flag.rawValue)
                    guard pedFlag.rawValue != 0, ped_partition_is_flag_available(part, pedFlag) != 0 else {
                        throw PartedError(operation: .setPartitionFlag, path: path, reason: .unsupported,
                                          detail: "flag \"\(flag.rawValue)\" is not available on \(type) partitions")
                    }
                    let set = ped_partition_set_flag(part, pedFlag, 1)
                    guard set != 0 else {
                        throw session.failure(.setPartitionFlag, path: path, code: set,
                                              detail: "flag \"\(flag.rawValue)\"")
                    }
                }
            } catch {
                ped_disk_delete_partition(disk, part)
                throw error
            }
            return describe(part)
        }
    }

    /// Removes partition `number` from the table in memory.
    /// - Throws: `PartedError` when there is no such partition or libparted refuses.
    public func remove(number: Int) throws(PartedError) {
        let session = PartedSession.shared
        let path = device.path
        try session.run { () throws(PartedError) in
            guard number > 0, let part = ped_disk_get_partition(disk, Int32(number)) else {
                throw PartedError(operation: .removePartition, path: path, reason: .unsupported,
                                  detail: "no partition \(number)")
            }
            let removed = ped_disk_delete_partition(disk, part)
            guard removed != 0 else { throw session.failure(.removePartition, path: path, code: removed) }
        }
    }

    /// Writes the table: to the file for an image file, and for a block device also tells the kernel.
    /// - Throws: `PartedError` (`.commit`) with libparted's messages.
    public func commit() throws(PartedError) {
        let session = PartedSession.shared
        let path = device.path
        let isBlockDevice = device.isBlockDevice
        try session.run { () throws(PartedError) in
            let committed = isBlockDevice ? ped_disk_commit(disk) : ped_disk_commit_to_dev(disk)
            guard committed != 0 else { throw session.failure(.commit, path: path, code: committed) }
        }
    }

    private static let pseudoKinds = PED_PARTITION_FREESPACE.rawValue | PED_PARTITION_METADATA.rawValue

    private var supportsNames: Bool {
        ped_disk_type_check_feature(disk.pointee.type, PED_DISK_TYPE_PARTITION_NAME) != 0
    }

    private func describe(_ part: UnsafeMutablePointer<PedPartition>) -> Partition {
        let entry = part.pointee
        let kind: Partition.Kind
        if entry.type.rawValue & PED_PARTITION_EXTENDED.rawValue != 0 {
            kind = .extended
        } else if entry.type.rawValue & PED_PARTITION_LOGICAL.rawValue != 0 {
            kind = .logical
        } else {
            kind = .primary
        }
        var name: String?
        if supportsNames, let raw = ped_partition_get_name(part) {
            let text = String(cString: raw)
            name = text.isEmpty ? nil : text
        }
        var flags: Set<PartitionFlag> = []
        for flag in PartitionFlag.allCases {
            let pedFlag = ped_partition_flag_get_by_name(flag.rawValue)
            if pedFlag.rawValue != 0, ped_partition_is_flag_available(part, pedFlag) != 0,
               ped_partition_get_flag(part, pedFlag) != 0 {
                flags.insert(flag)
            }
        }
        return Partition(number: Int(entry.num), kind: kind,
                         start: Int64(entry.geom.start), end: Int64(entry.geom.end), length: Int64(entry.geom.length),
                         sectorSize: Int64(disk.pointee.dev.pointee.sector_size),
                         fileSystemType: entry.fs_type.map { String(cString: $0.pointee.name) },
                         name: name, flags: flags)
    }
}
