/// Everything an install will do, decided before anything is written: shared by `--dry-run`, the log and
/// the install itself.
public struct InstallPlan: Sendable, Encodable, CustomStringConvertible {
    public var config: InstallerConfig
    /// The configuration files read, in order (later ones override earlier ones key by key).
    public var configFiles: [String]
    public var medium: BootMedium
    public var image: OSImage
    /// The image's GPT, when it has one.
    public var layout: ImageLayout?
    public var requirement: SizeRequirement
    public var target: TargetChoice
    public var bootEntry: BootEntryPlan
    /// Scripts for the installed system's `/etc/cloud/` (the µOS's and the config partition's `cloud-scripts/`).
    public var helperScripts: [HelperScript]
    /// Other disks that join the volume group (`storage.lvm_disks`), checked like the target.
    public var lvmDisks: [BlockDisk]
    /// The medium's `/user-apps/` folder (host path), copied to the installed system's persistent partition.
    public var userApps: String?
    public var steps: [InstallStep]

    public init(config: InstallerConfig, configFiles: [String], medium: BootMedium, image: OSImage,
                layout: ImageLayout?, requirement: SizeRequirement, target: TargetChoice, bootEntry: BootEntryPlan,
                helperScripts: [HelperScript] = [], lvmDisks: [BlockDisk] = [], userApps: String? = nil) {
        self.config = config
        self.configFiles = configFiles
        self.medium = medium
        self.image = image
        self.layout = layout
        self.requirement = requirement
        self.target = target
        self.bootEntry = bootEntry
        self.helperScripts = helperScripts
        self.lvmDisks = lvmDisks
        self.userApps = userApps
        steps = Self.steps(medium: medium, image: image, layout: layout, target: target.disk, bootEntry: bootEntry,
                           config: config, lvmDisks: lvmDisks, userApps: userApps)
    }

    /// The device that will be written.
    public var targetDevice: String { target.disk.devicePath }

    static func steps(medium: BootMedium, image: OSImage, layout: ImageLayout?, target: BlockDisk,
                      bootEntry: BootEntryPlan, config: InstallerConfig, lvmDisks: [BlockDisk] = [],
                      userApps: String? = nil) -> [InstallStep] {
        let device = target.devicePath
        var steps: [InstallStep] = [
            .wipeSignatures(device: device),
            .writeImage(image: image.path, compression: image.compression, device: device),
            .verifyChecksum(sha256: image.expectedSHA256, checksumFile: image.checksumPath),
            .writeHead(device: device),
        ]
        if let layout, target.sizeBytes > layout.requiredBytes {
            steps.append(.relocateBackupGPT(device: device, imageBytes: layout.requiredBytes, diskBytes: target.sizeBytes))
        }
        steps.append(.rereadPartitionTable(device: device))
        switch config.storage.layout {
        case .none:
            break
        case .emt:
            steps.append(.layOutStorage("lay out the EMT-S storage after the image's partitions (\(config.storage)): "
                + "hashmap_a, hashmap_b, rootfs_b, roothash, swap, reserved, then LVM volume group lvmvg; mkswap, "
                + "mkfs.ext4 rootfs_b, pvcreate + vgcreate"))
        case .vm:
            steps.append(.layOutStorage("lay out the VM storage after the image's partitions (\(config.storage)): "
                + "rootfs_b, swap, reserved, then LVM volume group lvmvg"))
        }
        if !lvmDisks.isEmpty {
            steps.append(.layOutStorage("wipe " + lvmDisks.map { "\($0.devicePath) (\($0.transport.label), "
                + "\(HumanUnits.bytes($0.sizeBytes)), \($0.displayModel))" }.joined(separator: ", ")
                + " and add \(lvmDisks.count == 1 ? "it" : "them") to volume group lvmvg (storage.lvm_disks): "
                + "wipefs -a, pvcreate, vgextend"))
        }
        var settings = config.systemSummary
        if let userApps {
            let (entries, bytes) = UserAppsCopy.measure(userApps)
            settings.append("user apps: \(userApps) (\(entries) entries, \(HumanUnits.bytes(UInt64(bytes)))) to "
                + "/\(UserAppsCopy.directoryName)/ on the persistent partition (edge_persistent)")
        }
        steps.append(.configureSystem(settings))
        if config.storage.layout == .emt {
            steps.append(.layOutStorage("dm-verity: veritysetup format rootfs onto hashmap_a, the root hash onto roothash"))
        }
        steps += bootEntry.steps.map { .bootEntry($0) }
        steps.append(.saveLog(partition: medium.configPartition))
        steps.append(.afterInstall(config.afterInstall))
        return steps
    }

    /// The plan as text, for `--dry-run` and the log.
    public var description: String {
        var lines: [String] = []
        func add(_ label: String, _ text: String) {
            let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                lines.append((index == 0 ? label.padding(toLength: 9, withPad: " ", startingAt: 0) : String(repeating: " ", count: 9)) + " " + part)
            }
        }
        add("config", configFiles.isEmpty ? "no configuration file: defaults" : configFiles.joined(separator: ", then "))
        add("settings", InstallerConfig.Key.allCases.map { key in
            "\(key.rawValue): \(config.displayValue(of: key)) (\(config.origin(of: key)))"
        }.joined(separator: "\n"))
        if !helperScripts.isEmpty {
            add("scripts", helperScripts.map { "\($0.name) (\($0.bytes.count) bytes, \($0.source)) -> /etc/cloud/" }
                .joined(separator: "\n"))
        }
        add("medium", "\(medium.device) (build \(medium.buildID)), mounted at \(medium.mount.root); config partition "
            + (medium.configPartition ?? "none"))
        add("image", "\(image.path): \(image.compression.rawValue), \(HumanUnits.bytes(image.compressedBytes)), "
            + "sha256 \(image.expectedSHA256) (from \(image.checksumPath))")
        if let layout {
            let partitions = layout.partitions.map { "p\($0.number) \($0.name.isEmpty ? $0.typeGUID : $0.name)" }
            add("layout", "GPT for \(layout.sectorSize)-byte sectors, needs \(HumanUnits.bytes(layout.requiredBytes)); "
                + "ESP is partition \(layout.espPartitionNumber.map(String.init) ?? "? (none found; 1 assumed)")"
                + (partitions.isEmpty ? "" : "; " + partitions.joined(separator: ", ")))
        } else {
            add("layout", "no GPT in the image's first MiB; size check: \(requirement.basis)")
        }
        let disk = target.disk
        add("target", "\(disk.devicePath) (\(disk.transport.label), \(HumanUnits.bytes(disk.sizeBytes)), "
            + "\(disk.displayModel)): \(target.reason)")
        add("disks", DiskVerdict.table(target.verdicts, chosen: disk.name).joined(separator: "\n"))
        add("steps", steps.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n"))
        return lines.joined(separator: "\n")
    }
}

extension InstallerConfig {
    /// A setting's value as text.
    public func displayValue(of key: Key) -> String {
        switch key {
        case .target: target.description
        case .targetPreference: targetPreference.rawValue
        case .image: image ?? "(the only image on the medium)"
        case .afterInstall: afterInstall.rawValue
        case .minDiskGB: minDiskGB.map { $0 == $0.rounded() && $0 < 1e15 ? String(Int($0)) : String($0) } ?? "(not set)"
        case .progressIntervalSeconds: String(progressIntervalSeconds)
        }
    }
}
