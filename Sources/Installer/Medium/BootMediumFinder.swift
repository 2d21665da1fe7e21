import DiskKit

/// Finds the install medium among the machine's block devices.
///
/// Every block device (disks and partitions, from `/sys/class/block`) that is not virtual and not empty
/// is probed with libblkid for an ISO 9660 file system labelled `EMTS_INSTALL`. Candidates are grouped by
/// their disk (a stick shows the file system on the whole device and on partition 1, which is mounted), read-only
/// and checked for `/.disk/emts-iso-<build id>`; when the kernel command line gives `emts.medium=`, only
/// that build id counts. The chosen medium stays mounted; the others are unmounted.
public struct BootMediumFinder: Sendable {
    public var paths: HostPaths
    public var mounter: any FileSystemMounter

    public init(paths: HostPaths, mounter: any FileSystemMounter) {
        self.paths = paths
        self.mounter = mounter
    }

    /// Finds the medium; `buildID` (from `emts.medium=`) when given must match.
    /// - Throws: `BootMediumError.notFound` (with what each device is), `.ambiguous` when several media
    ///   qualify, `.mount` when the medium cannot be mounted.
    public func find(buildID wanted: String?) throws(BootMediumError) -> BootMedium {
        var notes: [String] = []
        var candidates: [String: [String]] = [:]   // disk -> devices with the ISO 9660 label
        for name in blockDeviceNames() {
            guard isWorthProbing(name) else { continue }
            let report: ProbeReport
            do {
                report = try Blkid.probe(paths.devicePath(name))
            } catch {
                notes.append("\(name): cannot probe: \(error.message)")
                continue
            }
            guard report.type == "iso9660", report.label == BootMedium.volumeLabel else {
                let found = report.type.map { type in type + (report.label.map { " \"\($0)\"" } ?? "") }
                notes.append("\(name): \(found ?? (report.partitionTableType.map { "\($0) partition table" } ?? "no file system"))")
                continue
            }
            let disk = DeviceName.parentDisk(ofPartition: name, paths: paths) ?? name
            candidates[disk, default: []].append(name)
        }

        var media: [BootMedium] = []
        var mountFailure: MountError?
        for disk in candidates.keys.sorted() {
            guard let devices = candidates[disk] else { continue }
            // A partition first (on a stick, partition 1 is a window onto the ISO as written): mounting the
            // whole device would claim the disk, and the kernel then refuses to mount its config partition
            // ("Device or resource busy"). A CD has only the whole device.
            let device = devices.filter { $0 != disk }.sorted().first ?? disk
            let mounted: MountedFileSystem
            do {
                mounted = try mounter.mount(paths.devicePath(device), type: "iso9660", access: .readOnly)
            } catch {
                notes.append("\(device): \(BootMedium.volumeLabel) but cannot be mounted: \(error.reason)")
                mountFailure = error
                continue
            }
            let tags = SysfsFiles.list(mounted.path(BootMedium.tagDirectory))
                .filter { $0.hasPrefix(BootMedium.tagPrefix) && $0.count > BootMedium.tagPrefix.count }
                .map { String($0.dropFirst(BootMedium.tagPrefix.count)) }
            let buildID: String?
            if let wanted {
                buildID = tags.contains(wanted) ? wanted : nil
            } else {
                buildID = tags.count == 1 ? tags[0] : nil
            }
            guard let buildID else {
                let reason = tags.isEmpty ? "no \(BootMedium.tagDirectory)/\(BootMedium.tagPrefix)<build id>"
                    : "build id " + tags.joined(separator: ", ") + (wanted.map { ", not \($0)" } ?? "")
                notes.append("\(device): \(BootMedium.volumeLabel), but \(reason)")
                try? mounter.unmount(mounted)
                continue
            }
            let info = SysfsFiles.text(mounted.path(BootMedium.tagDirectory + "/info"))
            media.append(BootMedium(device: paths.devicePath(device), disk: disk, deviceNames: names(onDisk: disk),
                                    buildID: buildID, info: info, configPartition: configPartition(onDisk: disk),
                                    mount: mounted))
        }

        guard media.count <= 1 else {
            for medium in media { try? mounter.unmount(medium.mount) }
            throw .ambiguous(candidates: media.map { "\($0.device) (build \($0.buildID))" })
        }
        guard let medium = media.first else {
            if let mountFailure, candidates.count == 1 { throw .mount(mountFailure) }
            throw .notFound(wanted: wanted, probed: notes)
        }
        return medium
    }

    /// Every block device name: disks and partitions.
    private func blockDeviceNames() -> [String] {
        let names = SysfsFiles.list(paths.classBlockDirectory)
        return names.isEmpty ? SysfsFiles.list(paths.blockDirectory) : names
    }

    /// Virtual devices (loop, zram, dm, ...) never carry the medium, and an empty drive has nothing to probe;
    /// optical drives are real candidates (the ISO burnt to a CD).
    private func isWorthProbing(_ name: String) -> Bool {
        let directory = paths.classBlockDirectory + "/" + name
        let probe = BlockDisk(name: name, devicePath: "", sizeBytes: 0,
                              sysfsPath: SysfsFiles.canonical(directory) ?? directory)
        if let kind = probe.virtualKind, !kind.hasPrefix("optical") { return false }
        let sysfsDirectory = SysfsFiles.isDirectory(directory) ? directory : paths.blockDirectory + "/" + name
        return SysfsFiles.unsigned(sysfsDirectory + "/size") != 0
    }

    /// The disk's name and its partitions' names.
    private func names(onDisk disk: String) -> [String] {
        let directory = paths.blockDirectory + "/" + disk
        return [disk] + SysfsFiles.list(directory).filter { SysfsFiles.exists(directory + "/" + $0 + "/partition") }
    }

    /// The partition of `disk` holding the FAT file system labelled `EMTS-CONFIG`.
    private func configPartition(onDisk disk: String) -> String? {
        for name in names(onDisk: disk).dropFirst() {
            let path = paths.devicePath(name)
            if let report = try? Blkid.probe(path), report.type == "vfat", report.label == BootMedium.configLabel {
                return path
            }
        }
        return nil
    }
}
