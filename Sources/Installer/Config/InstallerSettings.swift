/// The settings one configuration file gives: every key optional, unknown keys refused.
///
/// This is the schema of `installer.yaml`. `Key` lists the keys of the install itself (which disk, which image,
/// what after); `SystemKey` those of the installed system's configuration. A new key is a case of one of them
/// plus a property; a section (`user:`, `network:`, `storage:`...) is a property of its own `Decodable` type
/// whose `init(from:)` also uses `strictContainer(keyedBy:)`, and whose `merged(over:)` says how a later file
/// overrides an earlier one, key by key.
public struct InstallerSettings: Sendable, Equatable, Decodable {
    /// The top-level keys, as written in YAML.
    public enum Key: String, CodingKey, CaseIterable, Sendable {
        case target
        case targetPreference = "target_preference"
        case image
        case afterInstall = "after_install"
        case minDiskGB = "min_disk_gb"
        case progressIntervalSeconds = "progress_interval_seconds"

        /// What the key takes, in words (for errors and documentation).
        public var expectation: String {
            switch self {
            case .target: "auto, a /dev/ path or a kernel device name"
            case .targetPreference: "smallest or largest"
            case .image: "a file name in the medium's /images/"
            case .afterInstall: "reboot, poweroff or none"
            case .minDiskGB: "a number of GB"
            case .progressIntervalSeconds: "a whole number of seconds"
            }
        }
    }

    /// The top-level keys of the installed system's configuration, as written in YAML.
    public enum SystemKey: String, CodingKey, CaseIterable, Sendable {
        case hostname, user, proxy, network, ntp, hugepages
        case hostType = "host_type"
        case cloudInit = "cloud_init"
        case storage

        /// What the key takes, in words (for errors and documentation).
        public var expectation: String {
            switch self {
            case .hostname: "a host name (letters, digits, '-', dot-separated parts)"
            case .user: "a mapping with name, password_hash, ssh_authorized_keys, passwordless_sudo"
            case .proxy: "a mapping with http, https, no_proxy"
            case .network: "a mapping with mode, interface or mac, address, gateway, dns, pin_to_install_nic"
            case .ntp: "a list of NTP server names or addresses"
            case .hugepages: "a whole number of 2 MiB huge pages"
            case .hostType: "kubernetes or container"
            case .cloudInit: "a mapping with services, write_files, runcmd"
            case .storage: "a mapping with layout, lvm_size_gb, swap_gb, reserved_mb"
            }
        }
    }

    public var target: TargetSelector?
    public var targetPreference: TargetPreference?
    public var image: String?
    public var afterInstall: AfterInstall?
    public var minDiskGB: Double?
    public var progressIntervalSeconds: Int?

    // The installed system.
    public var hostname: String?
    public var user: UserSection?
    public var proxy: ProxySection?
    public var network: NetworkSection?
    public var ntp: [String]?
    public var hugepages: Int?
    public var hostType: InstallerConfig.HostType?
    public var cloudInit: CloudInitSection?
    public var storage: StorageSection?

    public init(target: TargetSelector? = nil, targetPreference: TargetPreference? = nil, image: String? = nil,
                afterInstall: AfterInstall? = nil, minDiskGB: Double? = nil, progressIntervalSeconds: Int? = nil) {
        self.target = target
        self.targetPreference = targetPreference
        self.image = image
        self.afterInstall = afterInstall
        self.minDiskGB = minDiskGB
        self.progressIntervalSeconds = progressIntervalSeconds
    }

    public init(from decoder: any Decoder) throws {
        // Every top-level key, to refuse the unknown ones naming all the known ones.
        let all = try decoder.strictContainer(keyedBy: TopLevelKey.self)
        let container = try decoder.container(keyedBy: Key.self)
        target = try container.decodeIfPresent(TargetSelector.self, forKey: .target)
        targetPreference = try container.decodeIfPresent(TargetPreference.self, forKey: .targetPreference)
        image = try container.decodeIfPresent(String.self, forKey: .image)
        if let image {
            guard !image.isEmpty, !image.contains("/"), image != ".", image != ".." else {
                throw container.invalid(.image, "give a file name in the medium's /images/ folder (no \"/\")")
            }
        }
        afterInstall = try container.decodeIfPresent(AfterInstall.self, forKey: .afterInstall)
        minDiskGB = try container.decodeIfPresent(Double.self, forKey: .minDiskGB)
        if let minDiskGB {
            guard minDiskGB.isFinite, minDiskGB > 0, minDiskGB < 1_000_000 else {
                throw container.invalid(.minDiskGB, "must be a number of GB (10^9 bytes) above 0")
            }
        }
        progressIntervalSeconds = try container.decodeIfPresent(Int.self, forKey: .progressIntervalSeconds)
        if let progressIntervalSeconds {
            guard (1 ... 3600).contains(progressIntervalSeconds) else {
                throw container.invalid(.progressIntervalSeconds, "must be between 1 and 3600 seconds")
            }
        }

        hostname = try all.decodeText(.system(.hostname), checkedBy: ConfigValidation.hostname)
        user = try all.decodeIfPresent(UserSection.self, forKey: .system(.user))
        proxy = try all.decodeIfPresent(ProxySection.self, forKey: .system(.proxy))
        network = try all.decodeIfPresent(NetworkSection.self, forKey: .system(.network))
        ntp = try all.decodeTextList(.system(.ntp), checkedBy: ConfigValidation.ntpServer)
        hugepages = try all.decodeInt(.system(.hugepages), in: 0 ... 1_000_000,
                                         "must be a whole number of 2 MiB pages from 0 to 1000000")
        hostType = try all.decodeIfPresent(InstallerConfig.HostType.self, forKey: .system(.hostType))
        cloudInit = try all.decodeIfPresent(CloudInitSection.self, forKey: .system(.cloudInit))
        storage = try all.decodeIfPresent(StorageSection.self, forKey: .system(.storage))
    }

    /// The install keys this file sets (the installed system's: `systemKeysSet`).
    public var keysSet: [Key] {
        Key.allCases.filter { key in
            switch key {
            case .target: target != nil
            case .targetPreference: targetPreference != nil
            case .image: image != nil
            case .afterInstall: afterInstall != nil
            case .minDiskGB: minDiskGB != nil
            case .progressIntervalSeconds: progressIntervalSeconds != nil
            }
        }
    }
}

extension InstallerSettings {
    /// The dotted keys of the installed system's configuration this file sets (`hostname`, `network.dns`,
    /// `cloud_init.services.enable`).
    public var systemKeysSet: [String] {
        func section(_ key: SystemKey, _ keys: [String]?) -> [String] {
            (keys ?? []).map { key.rawValue + "." + $0 }
        }
        var keys: [String] = []
        if hostname != nil { keys.append(SystemKey.hostname.rawValue) }
        keys += section(.user, user?.keysSet)
        keys += section(.proxy, proxy?.keysSet)
        keys += section(.network, network?.keysSet)
        if ntp != nil { keys.append(SystemKey.ntp.rawValue) }
        if hugepages != nil { keys.append(SystemKey.hugepages.rawValue) }
        if hostType != nil { keys.append(SystemKey.hostType.rawValue) }
        keys += section(.cloudInit, cloudInit?.keysSet)
        keys += section(.storage, storage?.keysSet)
        return keys
    }

    /// Every top-level key: the install's and the installed system's.
    enum TopLevelKey: CodingKey, CaseIterable {
        case install(Key)
        case system(SystemKey)

        static var allCases: [TopLevelKey] { Key.allCases.map { .install($0) } + SystemKey.allCases.map { .system($0) } }

        init?(stringValue: String) {
            if let key = Key(rawValue: stringValue) {
                self = .install(key)
            } else if let key = SystemKey(rawValue: stringValue) {
                self = .system(key)
            } else {
                return nil
            }
        }

        init?(intValue: Int) { nil }

        var stringValue: String {
            switch self {
            case .install(let key): key.rawValue
            case .system(let key): key.rawValue
            }
        }

        var intValue: Int? { nil }
    }
}
