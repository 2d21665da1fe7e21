import Foundation

/// The installed system's configuration, done offline once the image is on the target: the storage layout
/// (partitions, swap, rootfs B, LVM), then the settings written into the installed root (user, network, proxy,
/// ...), then dm-verity over the finished rootfs A. Maps the installer configuration onto the provisioner's and
/// the storage planner's inputs.
struct SystemSetup {
    var config: InstallerConfig
    var environment: InstallEnvironment
    /// The target disk's device node.
    var device: String
    /// The image's partitions (the installed root is the one named `rootfs`, else partition 2).
    var layout: ImageLayout?
    /// Whether the target is the machine's only eligible disk (the automatic swap size depends on it).
    var singleDisk: Bool
    /// Scripts for the installed system's `/etc/cloud/`.
    var helperScripts: [HelperScript] = []
    /// Other disks (device nodes) that join the volume group, checked at planning.
    var lvmDisks: [String] = []
    /// The medium's user apps folder (host path), copied to the persistent partition.
    var userApps: String?
    var log: (String) -> Void

    /// The provisioner's profile for this configuration; `installingNIC` (the NIC of the µOS's default route)
    /// pins DHCP, or matches a static address when the configuration names no interface.
    /// `instanceID` is the NoCloud seed's (new for every install); `swapUUID` the swap the storage layout made.
    static func profile(_ config: InstallerConfig, installingNIC: InstallingNIC?, instanceID: String? = nil,
                        helperScripts: [HelperScript] = [], swapUUID: String? = nil) -> SystemProfile {
        var profile = SystemProfile()
        profile.hostname = config.hostname
        profile.user = config.user.map {
            UserAccount(name: $0.name, passwordHash: $0.passwordHash?.cryptString,
                        authorizedKeys: $0.sshAuthorizedKeys.map(\.line), passwordlessSudo: $0.passwordlessSudo)
        }
        profile.proxy = config.proxy
        let network = config.network
        let explicit: InterfaceMatch? = network.mac.map { .mac($0) } ?? network.interface.map { .name($0) }
        switch network.mode {
        case .dhcp:
            let pinned = network.pinToInstallNIC ? installingNIC.map { InterfaceMatch.mac($0.macAddress) } : nil
            profile.network = .dhcp(explicit ?? pinned)
        case .static:
            let match = explicit ?? installingNIC.map { .mac($0.macAddress) } ?? .name("en*")
            profile.network = .staticAddress(StaticNetwork(match: match, address: network.address ?? "",
                                                           gateway: network.gateway, dns: network.dns))
        }
        profile.ntpServers = config.ntpServers
        profile.hugepages = config.hugepages
        profile.hostType = config.hostType.flatMap { HostType(rawValue: $0.rawValue) }
        let cloud = config.cloudInit
        profile.cloudInit = CloudInitProfile(
            servicesEnable: cloud.servicesEnable, servicesDisable: cloud.servicesDisable,
            writeFiles: cloud.writeFiles,
            runcmd: cloud.runcmd, instanceID: instanceID, helperScripts: helperScripts)
        profile.swapUUID = swapUUID
        return profile
    }

    /// Lays out the storage, configures the installed root, seals rootfs A.
    /// - Throws: `InstallError.storage` or `.provision` (which names the step and the file or command).
    func run() throws(InstallError) -> (storage: StorageReport?, provision: ProvisionReport?) {
        let paths = environment.paths
        var storagePlan: StoragePlan?
        var storageReport: StorageReport?
        let applier = StorageApplier(runner: environment.runner)
        var request = StorageRequest(config: config.storage, memoryBytes: StorageRequest.memoryBytes(paths: paths) ?? 0,
                                     singleDisk: singleDisk)
        request.extraPhysicalVolumes = lvmDisks
        if request.layout != .none {
            do {
                let plan = try StoragePlanner(request: request).plan(disk: device)
                log("storage layout \(request.layout.rawValue): " + plan.partitions.map {
                    "\($0.name) \($0.sizeMiB) MiB (\($0.devicePath))"
                }.joined(separator: ", "))
                storageReport = try applier.prepare(plan, log: log)
                storagePlan = plan
            } catch {
                throw .storage(error)
            }
        }

        let profile = Self.profile(config, installingNIC: InstallingNIC.find(paths),
                                   instanceID: "emts-" + UUID().uuidString.lowercased(),
                                   helperScripts: helperScripts, swapUUID: storageReport?.swapUUID)
        let report = try withImagePartition(named: "rootfs", orNumber: 2, as: "the installed root") { root, device throws(InstallError) in
            log("configuring the installed system on \(device)")
            do {
                return try SystemProvisioner(root: root, now: environment.now).apply(profile) { change in log("  \(change)") }
            } catch {
                throw InstallError.provision("\(device): \(error)")
            }
        }
        for warning in report.warnings { log("warning: \(warning)") }

        if let userApps { try copyUserApps(userApps) }

        if let storagePlan {
            do {
                let sealed = try applier.seal(storagePlan, log: log)
                storageReport?.lines += sealed.lines
                storageReport?.rootHash = sealed.rootHash
            } catch {
                throw .storage(error)
            }
        }
        return (storageReport, report)
    }

    /// Copies the medium's user apps to `/user-apps/` on the image's persistent partition (named
    /// `edge_persistent`, else partition 3).
    private func copyUserApps(_ source: String) throws(InstallError) {
        let (report, device) = try withImagePartition(named: "edge_persistent", orNumber: 3,
                                                      as: "the persistent partition") { root, device throws(InstallError) in
            log("copying the user apps from \(source) to \(device):/\(UserAppsCopy.directoryName)")
            do {
                return (try UserAppsCopy(source: source, destinationRoot: root) { line in log("  " + line) }.run(), device)
            } catch {
                throw InstallError.provision("\(device) (user apps): \(error)")
            }
        }
        for path in report.skipped { log("warning: user apps: \(path) is not a file, directory or link: skipped") }
        log("user apps: \(report.files) files (\(HumanUnits.bytes(UInt64(report.bytes)))), \(report.directories) "
            + "directories, \(report.links) links copied to \(device):/\(UserAppsCopy.directoryName)")
    }

    /// Mounts the image's ext4 partition named `name` (else number `number`) read-write, runs `body` with its
    /// mount point and device, and unmounts it, also when `body` throws.
    private func withImagePartition<T>(named name: String, orNumber number: Int, as what: String,
                                       _ body: (String, String) throws(InstallError) -> T) throws(InstallError) -> T {
        let partition = layout?.partitions.first { $0.name == name }?.number ?? number
        let device = PartitionNode.path(disk: self.device, number: partition)
        let mounted: MountedFileSystem
        do {
            mounted = try environment.mounter.mount(device, type: "ext4", access: .readWrite)
        } catch {
            throw .provision("cannot mount \(what) \(device): \(error)")
        }
        let result: T
        do {
            result = try body(mounted.root, device)
        } catch {
            try? environment.mounter.unmount(mounted)
            throw error
        }
        do {
            try environment.mounter.unmount(mounted)
        } catch {
            throw .provision("cannot unmount \(what) \(device): \(error)")
        }
        return result
    }
}
