/// Decides which disks may be written and which one is: the rules that replace "wipe every internal disk".
///
/// A disk is excluded, with the reason said, when it is the boot medium or one of its partitions, a
/// virtual device (loop, ram, zram, dm, md, sr, fd, nbd), empty, removable, read-only, mounted, swap, held
/// by stacked devices, too small for the image, or of another sector size than the image. `target: auto`
/// then prefers NVMe, then SATA/SAS/SCSI, then virtio and the rest (never USB), and within the best
/// transport the smallest or largest disk as configured. A named target must be eligible.
public struct TargetPolicy: Sendable, Equatable {
    /// Kernel names of the boot medium's disk and partitions.
    public var mediumNames: Set<String>
    public var requirement: SizeRequirement
    public var preference: TargetPreference

    public init(mediumNames: Set<String>, requirement: SizeRequirement, preference: TargetPreference) {
        self.mediumNames = mediumNames
        self.requirement = requirement
        self.preference = preference
    }

    /// The verdict on `disk`.
    public func verdict(on disk: BlockDisk) -> DiskVerdict {
        var exclusions: [DiskExclusion] = []
        if !mediumNames.isDisjoint(with: disk.allNames) { exclusions.append(.bootMedium) }
        if let kind = disk.virtualKind {
            exclusions.append(.virtualDevice(kind: kind))
            return DiskVerdict(disk: disk, exclusions: exclusions)
        }
        if disk.sizeBytes == 0 { exclusions.append(.empty) }
        if disk.removable { exclusions.append(.removable) }
        if disk.readOnly { exclusions.append(.readOnly) }
        let mounted = disk.mountPoints.map { "\(disk.name) on \($0)" }
            + disk.partitions.flatMap { part in part.mountPoints.map { "\(part.name) on \($0)" } }
        if !mounted.isEmpty { exclusions.append(.mounted(mounted)) }
        let swaps = (disk.isSwap ? [disk.name] : []) + disk.partitions.filter(\.isSwap).map(\.name)
        if !swaps.isEmpty { exclusions.append(.swap(swaps)) }
        let held = disk.holders.map { "\(disk.name) held by \($0)" }
            + disk.partitions.flatMap { part in part.holders.map { "\(part.name) held by \($0)" } }
        if !held.isEmpty { exclusions.append(.held(held)) }
        if let required = requirement.bytes, disk.sizeBytes > 0, disk.sizeBytes < required {
            exclusions.append(.tooSmall(size: disk.sizeBytes, required: required, basis: requirement.basis))
        }
        if let imageSectors = requirement.imageSectorSize, disk.sizeBytes > 0, disk.logicalSectorSize != imageSectors {
            exclusions.append(.sectorSize(disk: disk.logicalSectorSize, image: imageSectors))
        }
        return DiskVerdict(disk: disk, exclusions: exclusions)
    }

    /// The verdicts on every disk, in the inventory's order.
    public func verdicts(_ inventory: DiskInventory) -> [DiskVerdict] { inventory.disks.map(verdict(on:)) }

    /// Chooses the target for `selector`.
    /// - Parameters:
    ///   - origin: where the selector came from, for the explanation ("/etc/emts/installer.yaml").
    /// - Throws: `TargetError` when the named disk does not exist, is a partition or is excluded, or when
    ///   `auto` finds no candidate.
    public func choose(_ selector: TargetSelector, origin: String, inventory: DiskInventory,
                       paths: HostPaths) throws(TargetError) -> TargetChoice {
        try choose(selector, origin: origin, inventory: inventory, paths: paths, label: nil)
    }

    /// `label` names the selector in errors instead of its text.
    private func choose(_ selector: TargetSelector, origin: String, inventory: DiskInventory, paths: HostPaths,
                        label: String?) throws(TargetError) -> TargetChoice {
        let verdicts = verdicts(inventory)
        switch selector {
        case .device(let device):
            let spec = label ?? device
            let name = try DeviceName.resolve(device, paths: paths)
            guard let verdict = verdicts.first(where: { $0.disk.name == name }) else {
                if let disk = inventory.disk(withPartition: name) {
                    throw .partitionGiven(target: spec, partition: name, disk: disk.name)
                }
                if let parent = DeviceName.parentDisk(ofPartition: name, paths: paths) {
                    throw .partitionGiven(target: spec, partition: name, disk: parent)
                }
                throw .unknownDevice(target: spec, detail: "\(name) is not a disk of this machine",
                                     available: inventory.disks.filter { $0.virtualKind == nil }.map(\.name))
            }
            guard verdict.isEligible else {
                throw .notEligible(target: spec, disk: name, reasons: verdict.exclusions.map(\.description))
            }
            let via = device == name || device == "/dev/" + name ? "" : " (\(device) -> \(name))"
            return TargetChoice(disk: verdict.disk, reason: "named by target in \(origin)\(via)", verdicts: verdicts)
        case .auto:
            return try chooseAutomatically(verdicts)
        }
    }

    /// The disks `storage.lvm_disks` names to join the volume group, resolved and checked like a named target
    /// (never the medium, a removable, read-only, mounted, swap or held disk), except for the image's size and
    /// sector size (no image is written there); and never the target itself.
    /// - Throws: `TargetError` naming the entry (`storage.lvm_disks[1] sdb`) and why.
    public func joiningDisks(_ specs: [String], target: BlockDisk, inventory: DiskInventory,
                             paths: HostPaths) throws(TargetError) -> [BlockDisk] {
        var policy = self
        policy.requirement = SizeRequirement(bytes: nil, basis: "a disk that joins the volume group")
        var disks: [BlockDisk] = []
        for (index, spec) in specs.enumerated() {
            let label = "storage.lvm_disks[\(index + 1)] \(spec)"
            let chosen = try policy.choose(.device(spec), origin: "storage.lvm_disks", inventory: inventory, paths: paths,
                                           label: label).disk
            guard chosen.name != target.name else {
                throw .notEligible(target: label, disk: chosen.name, reasons: ["it is the install target"])
            }
            guard !disks.contains(where: { $0.name == chosen.name }) else {
                throw .notEligible(target: label, disk: chosen.name, reasons: ["named twice"])
            }
            disks.append(chosen)
        }
        return disks
    }

    private func chooseAutomatically(_ verdicts: [DiskVerdict]) throws(TargetError) -> TargetChoice {
        let candidates = verdicts.filter(\.isAutomaticCandidate)
        guard let bestTier = candidates.compactMap({ $0.disk.transport.automaticTier }).min() else {
            throw .noEligibleDisk(verdicts: verdicts.filter { $0.disk.virtualKind == nil }
                .map { "\($0.disk.name): \($0.reason)" })
        }
        let tier = candidates.filter { $0.disk.transport.automaticTier == bestTier }.sorted { a, b in
            if a.disk.sizeBytes != b.disk.sizeBytes {
                return preference == .smallest ? a.disk.sizeBytes < b.disk.sizeBytes : a.disk.sizeBytes > b.disk.sizeBytes
            }
            return a.disk.name < b.disk.name
        }
        guard let chosen = tier.first else { throw .noEligibleDisk(verdicts: []) }
        let kind = Set(tier.map(\.disk.transport)).map(\.label).sorted().joined(separator: "/")
        var reason = "chosen automatically (NVMe, then SATA/SAS, then virtio and others; never USB): "
        if tier.count == 1 {
            reason += "the only eligible \(kind) disk"
        } else {
            reason += "the \(preference.rawValue) of \(tier.count) eligible \(kind) disks (target_preference: "
                + "\(preference.rawValue); others: "
                + tier.dropFirst().map { "\($0.disk.name) \(HumanUnits.bytes($0.disk.sizeBytes))" }.joined(separator: ", ")
                + ")"
        }
        let lower = candidates.filter { ($0.disk.transport.automaticTier ?? .max) > bestTier }
        if !lower.isEmpty {
            reason += "; not preferred: " + lower.map { "\($0.disk.name) (\($0.disk.transport.label))" }.joined(separator: ", ")
        }
        return TargetChoice(disk: chosen.disk, reason: reason, verdicts: verdicts)
    }
}
