import CParted
import Glibc

/// A disk or disk-image file opened with libparted.
///
/// Each `DiskDevice` owns a private libparted device (taken out of libparted's global cache), so its
/// length is read when it is opened: open a new one after the file or disk has grown.
public final class DiskDevice {
    /// The path as given.
    public let path: String
    /// True for a block device, false for a regular (image) file; decides how `commit()` writes.
    public let isBlockDevice: Bool
    let handle: UnsafeMutablePointer<PedDevice>

    /// Opens the block device or regular image file at `path`. Nothing is written.
    /// - Throws: `PartedError` (`.openDevice`) when the path does not exist or cannot be used.
    public init(path: String) throws(PartedError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw PartedError(operation: .openDevice, path: path, detail: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG || (info.st_mode & S_IFMT) == S_IFBLK else {
            throw PartedError(operation: .openDevice, path: path, reason: .unsupported,
                              detail: "not a block device or regular file")
        }
        isBlockDevice = (info.st_mode & S_IFMT) == S_IFBLK
        handle = try PartedSession.shared.run { () throws(PartedError) -> UnsafeMutablePointer<PedDevice> in
            guard let device = ped_device_get(path) else {
                throw PartedSession.shared.failure(.openDevice, path: path, detail: "libparted cannot open it")
            }
            // Owned by this object alone: two handles on one path must not share (or free) one device.
            ped_device_cache_remove(device)
            return device
        }
    }

    deinit {
        let handle = self.handle
        PartedSession.shared.run { ped_device_destroy(handle) }
    }

    /// Sector sizes, length, model and whether this is a block device.
    public var facts: DeviceFacts {
        PartedSession.shared.run {
            let device = handle.pointee
            return DeviceFacts(path: device.path.map { String(cString: $0) } ?? path,
                               model: device.model.map { String(cString: $0) } ?? "",
                               sectorSize: Int64(device.sector_size),
                               physicalSectorSize: Int64(device.phys_sector_size),
                               length: Int64(device.length),
                               isBlockDevice: isBlockDevice,
                               isReadOnly: device.read_only != 0)
        }
    }

    /// The type of partition table libparted recognises, or `nil` when there is none.
    public func probePartitionTableType() -> PartitionTableType? {
        PartedSession.shared.run {
            ped_disk_probe(handle).map { PartitionTableType(rawValue: String(cString: $0.pointee.name)) }
        }
    }

    /// Reads the partition table. Nothing is written: libparted's offers to fix a table are declined.
    /// - Throws: `PartedError` with reason `.noPartitionTable` when there is no table libparted
    ///   recognises, `.libraryFailure` when it cannot be read.
    public func readPartitionTable() throws(PartedError) -> PartitionTable {
        try PartedSession.shared.run { () throws(PartedError) -> PartitionTable in
            try PartitionTable(reading: self)
        }
    }

    /// Starts a new, empty partition table of `type` in memory; `commit()` writes it, replacing any old one.
    /// - Throws: `PartedError` (`.unsupported` for an unknown table type).
    public func createPartitionTable(_ type: PartitionTableType) throws(PartedError) -> PartitionTable {
        try PartedSession.shared.run { () throws(PartedError) -> PartitionTable in
            guard let diskType = ped_disk_type_get(type.rawValue) else {
                throw PartedError(operation: .createPartitionTable, path: path, reason: .unsupported,
                                  detail: "unknown partition table type \"\(type)\"")
            }
            guard let disk = ped_disk_new_fresh(handle, diskType) else {
                throw PartedSession.shared.failure(.createPartitionTable, path: path)
            }
            return PartitionTable(device: self, disk: disk)
        }
    }

    /// What libparted objects to while reading the GPT of the disk or image at `path` (a damaged primary or
    /// backup header or entry array, a backup not where the primary says); empty when it reads cleanly.
    /// Nothing is written.
    /// - Throws: `PartedError` (`.noPartitionTable` when there is no GPT, `.libraryFailure` when it is unreadable).
    public static func gptProblems(at path: String) throws(PartedError) -> [String] {
        let device = try DiskDevice(path: path)
        let session = PartedSession.shared
        return try session.run(.inspect) { () throws(PartedError) -> [String] in
            guard let type = ped_disk_probe(device.handle), String(cString: type.pointee.name) == "gpt" else {
                throw session.failure(.readPartitionTable, path: path, reason: .noPartitionTable, detail: "no GPT found")
            }
            guard let disk = ped_disk_new(device.handle) else {
                throw session.failure(.readPartitionTable, path: path)
            }
            ped_disk_destroy(disk)
            return session.raisedMessages
        }
    }

    /// Moves the backup GPT of the disk or image at `path` to its last sectors and extends the usable
    /// area to the end, as needed after writing a smaller disk image to a larger disk (or growing an
    /// image file). Does nothing when the backup already sits at the end.
    ///
    /// libparted does the move while reading a table whose backup header is not at the end, when it
    /// is allowed to "fix" it; this reads the table that way and commits.
    /// - Returns: true when the table was rewritten.
    /// - Throws: `PartedError` (`.noPartitionTable` when the device has no GPT).
    public static func relocateBackupGPT(at path: String) throws(PartedError) -> Bool {
        // A fresh device: its length must be the current one.
        let device = try DiskDevice(path: path)
        let session = PartedSession.shared
        return try session.run(.repair) { () throws(PartedError) -> Bool in
            guard let type = ped_disk_probe(device.handle), String(cString: type.pointee.name) == "gpt" else {
                throw session.failure(.relocateBackupGPT, path: path, reason: .noPartitionTable,
                                      detail: "no GPT found")
            }
            guard let disk = ped_disk_new(device.handle) else {
                throw session.failure(.relocateBackupGPT, path: path)
            }
            defer { ped_disk_destroy(disk) }
            guard !session.appliedFixes.isEmpty else { return false }
            let committed = device.isBlockDevice ? ped_disk_commit(disk) : ped_disk_commit_to_dev(disk)
            guard committed != 0 else {
                throw session.failure(.relocateBackupGPT, path: path, code: committed)
            }
            return true
        }
    }
}
