/// The installer's resolved configuration: defaults, overridden key by key by each configuration file in
/// order, then by the kernel command line.
///
/// Load order (later wins, one key at a time):
/// 1. the defaults below;
/// 2. the configuration embedded in the µOS, `/etc/emts/installer.yaml` (or `install-os --config FILE`);
/// 3. `installer.yaml` on the medium's writable config partition (FAT, label `EMTS-CONFIG`), or without it the
///    shell installer's `config-file` there (`LegacyConfigFile`);
/// 4. `emts.target=` on the kernel command line.
///
/// A file only overrides the keys it sets: a field engineer's one-line `target: /dev/sda` on the stick
/// keeps every other setting of the embedded file.
public struct InstallerConfig: Sendable, Equatable, Encodable {
    public typealias Key = InstallerSettings.Key

    /// The configuration embedded in the µOS.
    public static let embeddedPath = "/etc/emts/installer.yaml"

    /// `auto`, or the disk to install to.
    public var target: TargetSelector = .auto
    /// Which disk `auto` takes among those of the best transport.
    public var targetPreference: TargetPreference = .smallest
    /// The image file in the medium's `/images/`; `nil` means the only image there.
    public var image: String?
    /// What to do after a successful install.
    public var afterInstall: AfterInstall = .reboot
    /// Disks smaller than this many GB (10^9 bytes) are not eligible.
    public var minDiskGB: Double?
    /// Seconds between progress lines when the output is not a terminal (the journal, the consoles).
    public var progressIntervalSeconds: Int = 5

    // The installed system (`SystemKey`): resolved from the sections merged key by key.

    /// `/etc/hostname`; `nil` keeps the image's.
    public var hostname: String?
    /// The account to create; `nil` when no file names one.
    public var user: UserConfig?
    /// The proxies; `nil` when no file sets one.
    public var proxy: ProxyConfig?
    /// The network configuration (default: DHCP, pinned to the install NIC's MAC).
    public var network = NetworkConfig()
    /// NTP servers replacing the image's default; empty keeps it.
    public var ntpServers: [String] = []
    /// 2 MiB huge pages to reserve; `nil` leaves the kernel's default.
    public var hugepages: Int?
    /// The machine's role; `nil`: neither k3s nor Docker is set up.
    public var hostType: HostType?
    /// Services, files and commands for cloud-init's first boot.
    public var cloudInit = CloudInitConfig()
    /// The layout of the rest of the disk (default: none).
    public var storage = StorageConfig()

    /// The merged sections, kept so that a later file overrides them key by key.
    private var sections = InstallerSettings()

    /// Where each key's value came from: `default`, a file's path, or the kernel argument. Keyed by the
    /// YAML key name (dotted for the keys of a section: `network.dns`).
    public private(set) var origins: [String: String]

    /// The defaults.
    public init() {
        origins = Dictionary(uniqueKeysWithValues: Key.allCases.map { ($0.rawValue, "default") })
    }

    /// Resolves `files` in order over the defaults, then applies the kernel command line.
    public init(files: [InstallerConfigFile], commandLine: KernelCommandLine?) {
        self.init()
        for file in files { apply(file) }
        if let commandLine { apply(commandLine) }
    }

    /// Overrides the keys `file` sets.
    public mutating func apply(_ file: InstallerConfigFile) {
        let settings = file.settings
        if let value = settings.target { target = value }
        if let value = settings.targetPreference { targetPreference = value }
        if let value = settings.image { image = value }
        if let value = settings.afterInstall { afterInstall = value }
        if let value = settings.minDiskGB { minDiskGB = value }
        if let value = settings.progressIntervalSeconds { progressIntervalSeconds = value }
        for key in settings.keysSet { origins[key.rawValue] = file.path }

        sections.hostname = settings.hostname ?? sections.hostname
        sections.user = sections.user.overridden(by: settings.user)
        sections.proxy = sections.proxy.overridden(by: settings.proxy)
        sections.network = sections.network.overridden(by: settings.network)
        sections.ntp = settings.ntp ?? sections.ntp
        sections.hugepages = settings.hugepages ?? sections.hugepages
        sections.hostType = settings.hostType ?? sections.hostType
        sections.cloudInit = sections.cloudInit.overridden(by: settings.cloudInit)
        sections.storage = sections.storage.overridden(by: settings.storage)
        hostname = sections.hostname
        user = UserConfig(sections.user)
        proxy = ProxyConfig(sections.proxy)
        network = NetworkConfig(sections.network)
        ntpServers = sections.ntp ?? []
        hugepages = sections.hugepages
        hostType = sections.hostType
        cloudInit = CloudInitConfig(sections.cloudInit)
        storage = StorageConfig(sections.storage)
        for key in settings.systemKeysSet { origins[key] = file.path }
    }

    /// Checks what only the merged configuration can tell: `user:` keys without a `user.name`, `mode: static`
    /// without an address, an address or gateway with `mode: dhcp`. Each problem names the file that set the
    /// key in question.
    /// - Throws: `InstallerConfigError.invalidValue` (without a line: the keys may come from several files).
    public func checkComplete() throws(InstallerConfigError) {
        if user == nil, let key = sections.user?.keysSet.first {
            throw .invalidValue(file: origin(ofKey: "user." + key), key: "user.name", line: nil,
                                message: "user.\(key) is set but no configuration file gives user.name")
        }
        if network.mode == .static, network.address == nil {
            throw .invalidValue(file: origin(ofKey: "network.mode"), key: "network.address", line: nil,
                                message: "network.mode is static: give network.address (such as 192.168.1.10/24)")
        }
        if network.mode == .dhcp {
            for (key, value) in [("address", network.address), ("gateway", network.gateway)] where value != nil {
                throw .invalidValue(file: origin(ofKey: "network." + key), key: "network." + key, line: nil,
                                    message: "needs network.mode: static (the configuration's mode is dhcp)")
            }
        }
        if !storage.lvmDisks.isEmpty, storage.layout == .none || storage.lvmSizeGB == 0 {
            throw .invalidValue(file: origin(ofKey: "storage.lvm_disks"), key: "storage.lvm_disks", line: nil,
                                message: "other disks join the volume group lvmvg, which needs storage.layout emt or vm "
                                    + "and storage.lvm_size_gb other than 0")
        }
        if let repeated = Dictionary(grouping: storage.lvmDisks, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw .invalidValue(file: origin(ofKey: "storage.lvm_disks"), key: "storage.lvm_disks", line: nil,
                                message: "\(repeated) is named twice")
        }
    }

    /// Applies `emts.target=`.
    public mutating func apply(_ commandLine: KernelCommandLine) {
        if let value = commandLine.target {
            target = value
            origins[Key.target.rawValue] = "kernel command line (emts.target=\(value))"
        }
    }

    /// The installed system's settings as lines for the plan and the log, each with where it came from.
    /// Secrets show as `(set)`, SSH keys by type and fingerprint, files by size.
    public var systemSummary: [String] {
        typealias SystemKey = InstallerSettings.SystemKey
        func line(_ key: SystemKey, _ value: String) -> String {
            "\(key.rawValue): \(value) (\(origin(ofKey: key.rawValue)))"
        }
        var lines = [
            line(.hostname, hostname ?? "(the image's)"),
            line(.user, user?.description ?? "(none)"),
        ]
        if let user, !user.sshAuthorizedKeys.isEmpty {
            lines += user.sshAuthorizedKeys.map { "  key \($0)" }
        }
        lines += [
            line(.proxy, proxy?.description ?? "(none)"),
            line(.network, network.description),
            line(.ntp, ntpServers.isEmpty ? "(the image's)" : ntpServers.joined(separator: " ")),
            line(.hugepages, hugepages.map(String.init) ?? "(not set)"),
            line(.hostType, hostType?.rawValue ?? "(not set)"),
            line(.cloudInit, cloudInit.description),
            line(.storage, storage.description),
        ]
        return lines
    }

    /// Where `key`'s value came from.
    public func origin(of key: Key) -> String { origins[key.rawValue] ?? "default" }

    /// Where a key of the installed system's configuration came from, by its dotted name (`network.dns`);
    /// for a section (`network`), the files that set its keys.
    public func origin(ofKey name: String) -> String {
        if let origin = origins[name] { return origin }
        var files: [String] = []
        for key in origins.keys.sorted() where key.hasPrefix(name + ".") {
            if let file = origins[key], !files.contains(file) { files.append(file) }
        }
        return files.isEmpty ? "default" : files.joined(separator: ", ")
    }

    /// `min_disk_gb` in bytes.
    public var minDiskBytes: UInt64? {
        minDiskGB.map { UInt64(($0 * 1_000_000_000).rounded(.up)) }
    }

    private enum CodingKeys: String, CodingKey {
        case target, targetPreference = "target_preference", image, afterInstall = "after_install"
        case minDiskGB = "min_disk_gb", progressIntervalSeconds = "progress_interval_seconds"
        case hostname, user, proxy, network, ntpServers = "ntp", hugepages, hostType = "host_type"
        case cloudInit = "cloud_init", storage, origins
    }
}
