/// The settings one configuration file gives: every key optional, unknown keys refused.
///
/// This is the schema of `installer.yaml`. A new top-level key is a case of `Key` plus a property; a new
/// section (`user:`, `network:`, `storage:` in later issues) is a property of its own `Decodable` type whose
/// `init(from:)` also uses `strictContainer(keyedBy:)`, and whose `merged(over:)` says how a later file
/// overrides an earlier one.
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

    public var target: TargetSelector?
    public var targetPreference: TargetPreference?
    public var image: String?
    public var afterInstall: AfterInstall?
    public var minDiskGB: Double?
    public var progressIntervalSeconds: Int?

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
        let container = try decoder.strictContainer(keyedBy: Key.self)
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
    }

    /// The keys this file sets.
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
