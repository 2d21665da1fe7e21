/// The installer's resolved configuration: defaults, overridden key by key by each configuration file in
/// order, then by the kernel command line.
///
/// Load order (later wins, one key at a time):
/// 1. the defaults below;
/// 2. the configuration embedded in the µOS, `/etc/emts/installer.yaml` (or `install-os --config FILE`);
/// 3. `installer.yaml` on the medium's writable config partition (FAT, label `EMTS-CONFIG`);
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
    /// Where each key's value came from: `default`, a file's path, or the kernel argument. Keyed by the
    /// YAML key name.
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
    }

    /// Applies `emts.target=`.
    public mutating func apply(_ commandLine: KernelCommandLine) {
        if let value = commandLine.target {
            target = value
            origins[Key.target.rawValue] = "kernel command line (emts.target=\(value))"
        }
    }

    /// Where `key`'s value came from.
    public func origin(of key: Key) -> String { origins[key.rawValue] ?? "default" }

    /// `min_disk_gb` in bytes.
    public var minDiskBytes: UInt64? {
        minDiskGB.map { UInt64(($0 * 1_000_000_000).rounded(.up)) }
    }

    private enum CodingKeys: String, CodingKey {
        case target, targetPreference = "target_preference", image, afterInstall = "after_install"
        case minDiskGB = "min_disk_gb", progressIntervalSeconds = "progress_interval_seconds", origins
    }
}
