/// The `storage:` section of one configuration file: what install-os lays out on the target after the image.
///
/// ```yaml
/// storage:
///   layout: emt          # none (default) | emt | vm
///   lvm_size_gb: 100     # 0: no LVM volume group; not set: the rest of the disk
///   swap_gb: auto        # or a number of GB
///   reserved_mb: 5120
///   lvm_disks: [/dev/disk/by-id/nvme-SECOND]   # other disks that join lvmvg (wiped)
/// ```
public struct StorageSection: Sendable, Equatable, Decodable, ConfigSection, CustomStringConvertible {
    public enum Key: String, CodingKey, CaseIterable, Sendable {
        case layout
        case lvmSizeGB = "lvm_size_gb"
        case swapGB = "swap_gb"
        case reservedMB = "reserved_mb"
        case lvmDisks = "lvm_disks"
    }

    public var layout: StorageConfig.Layout?
    public var lvmSizeGB: Double?
    public var swap: StorageConfig.SwapSize?
    public var reservedMB: Int?
    public var lvmDisks: [String]?

    public init(layout: StorageConfig.Layout? = nil, lvmSizeGB: Double? = nil, swap: StorageConfig.SwapSize? = nil,
                reservedMB: Int? = nil, lvmDisks: [String]? = nil) {
        self.layout = layout
        self.lvmSizeGB = lvmSizeGB
        self.swap = swap
        self.reservedMB = reservedMB
        self.lvmDisks = lvmDisks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: Key.self)
        layout = try container.decodeIfPresent(StorageConfig.Layout.self, forKey: .layout)
        lvmSizeGB = try container.decodeIfPresent(Double.self, forKey: .lvmSizeGB)
        if let lvmSizeGB, let message = Self.checkGB(lvmSizeGB) { throw container.invalid(.lvmSizeGB, message) }
        if let number = try? container.decodeIfPresent(Double.self, forKey: .swapGB) {
            if let message = Self.checkGB(number) { throw container.invalid(.swapGB, message) }
            swap = .gb(number)
        } else if let text = try container.decodeIfPresent(String.self, forKey: .swapGB) {
            guard text == "auto" else { throw container.invalid(.swapGB, "\"\(text)\" is not auto or a number of GB") }
            swap = .auto
        }
        reservedMB = try container.decodeInt(.reservedMB, in: 0 ... 1_000_000, "must be a whole number of MB from 0 to 1000000")
        lvmDisks = try container.decodeTextList(.lvmDisks, checkedBy: ConfigValidation.deviceSpec)
    }

    /// A size in GB: a number from 0 to 1,000,000.
    static func checkGB(_ value: Double) -> String? {
        value.isFinite && value >= 0 && value <= 1_000_000 ? nil : "must be a number of GB from 0 to 1000000"
    }

    public func merged(over earlier: StorageSection?) -> StorageSection {
        StorageSection(layout: layout ?? earlier?.layout, lvmSizeGB: lvmSizeGB ?? earlier?.lvmSizeGB,
                       swap: swap ?? earlier?.swap, reservedMB: reservedMB ?? earlier?.reservedMB,
                       lvmDisks: lvmDisks ?? earlier?.lvmDisks)
    }

    public var keysSet: [String] {
        Key.allCases.filter { key in
            switch key {
            case .layout: layout != nil
            case .lvmSizeGB: lvmSizeGB != nil
            case .swapGB: swap != nil
            case .reservedMB: reservedMB != nil
            case .lvmDisks: lvmDisks != nil
            }
        }.map(\.rawValue)
    }

    public var description: String { "{" + keysSet.joined(separator: ", ") + "}" }
}

/// The layout install-os gives the rest of the target disk (`storage:` resolved over every file).
public struct StorageConfig: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// What is added after the image's partitions.
    public enum Layout: String, ConfigChoice {
        /// Keep the image's partitions as written.
        case none
        /// Real hardware: rootfs B, dm-verity hash partitions A and B, root hash, swap, reserved, LVM.
        case emt
        /// Virtual machines: rootfs B and swap, no dm-verity.
        case vm
    }

    /// The swap partition's size.
    public enum SwapSize: Sendable, Equatable, Encodable, CustomStringConvertible {
        /// From the RAM: half of it, at most 128 GB; on a machine with a single disk, sqrt(RAM in GB) GB.
        case auto
        /// This many GB (0: no swap).
        case gb(Double)

        public var description: String {
            switch self {
            case .auto: "auto"
            case .gb(let value): formatNumber(value) + " GB"
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .auto: try container.encode("auto")
            case .gb(let value): try container.encode(value)
            }
        }
    }

    /// Default `none`.
    public var layout: Layout = Layout.none
    /// GB for the LVM volume group `lvmvg`; `nil` (default): the rest of the disk; 0: no volume group.
    public var lvmSizeGB: Double?
    /// Default `auto`.
    public var swap: SwapSize = .auto
    /// MB kept free at the end of the disk. Default 5120.
    public var reservedMB: Int = 5120
    /// Other disks that join the volume group, as named (a path or a kernel name); each is wiped. Default none:
    /// install-os never touches a disk it was not told to.
    public var lvmDisks: [String] = []

    public init(layout: Layout = Layout.none, lvmSizeGB: Double? = nil, swap: SwapSize = .auto, reservedMB: Int = 5120,
                lvmDisks: [String] = []) {
        self.layout = layout
        self.lvmSizeGB = lvmSizeGB
        self.swap = swap
        self.reservedMB = reservedMB
        self.lvmDisks = lvmDisks
    }

    init(_ section: StorageSection?) {
        self.init(layout: section?.layout ?? Layout.none, lvmSizeGB: section?.lvmSizeGB, swap: section?.swap ?? .auto,
                  reservedMB: section?.reservedMB ?? 5120, lvmDisks: section?.lvmDisks ?? [])
    }

    public var description: String {
        guard layout != Layout.none else { return "none (the image's partitions only)" }
        let lvm = lvmSizeGB.map { $0 == 0 ? "no LVM" : "LVM \(formatNumber($0)) GB" } ?? "LVM on the rest of the disk"
        let joined = lvmDisks.isEmpty ? "" : " with " + lvmDisks.joined(separator: ", ")
        return "\(layout.rawValue): swap \(swap), reserved \(reservedMB) MB, \(lvm)\(joined)"
    }

    private enum CodingKeys: String, CodingKey {
        case layout, lvmSizeGB = "lvm_size_gb", swap = "swap_gb", reservedMB = "reserved_mb", lvmDisks = "lvm_disks"
    }
}

extension InstallerConfig {
    /// The role of the installed machine (`host_type`).
    public enum HostType: String, ConfigChoice {
        /// k3s: its configure script runs on the first boot (after the huge pages are set).
        case kubernetes
        /// Docker: enabled, with its proxy drop-in and data root under `/opt/docker-data`.
        case container
    }
}

/// `64`, `2.5`: a number without a needless `.0`.
func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
