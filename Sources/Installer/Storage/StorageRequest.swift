/// What storage to lay out on the installed disk after the image, and the machine facts the sizes depend on.
///
/// Sizes follow today's installer: "MB" and "GB" are binary (MiB, GiB), as its parted calls counted 2048
/// sectors per MB.
public struct StorageRequest: Sendable, Equatable {
    /// Which partitions to add after the image's three.
    public enum Layout: String, Sendable, CaseIterable, Codable {
        /// Real hardware: dm-verity hash partitions for rootfs A and B, the root hash, rootfs B, swap, reserved.
        case emt
        /// A virtual machine: rootfs B and swap, reserved; no dm-verity.
        case vm
        /// Leave the disk as the image left it.
        case none
    }

    public var layout: Layout
    /// The LVM partition's size in GiB: `nil` for the rest of the disk, 0 for no LVM.
    public var lvmSizeGB: Double?
    /// The swap partition's size in GiB: `nil` to derive it from the RAM (see `swapMiB`), 0 for no swap.
    public var swapGB: Double?
    /// The reserved partition's size in MiB (0: no reserved partition).
    public var reservedMB: Int
    /// The machine's RAM in bytes (MemTotal), for the automatic swap size.
    public var memoryBytes: UInt64
    /// Whether the target is the machine's only internal disk (the automatic swap size is smaller then).
    public var singleDisk: Bool
    /// Whole disks (device nodes) that join the volume group after the LVM partition: each is wiped and made
    /// a physical volume. Only disks the configuration names (`storage.lvm_disks`), checked like a target.
    public var extraPhysicalVolumes: [String] = []

    /// The reserved partition's default size in MiB.
    public static let defaultReservedMB = 5120
    /// The volume group the LVM partition starts.
    public static let volumeGroupName = "lvmvg"

    public init(layout: Layout, lvmSizeGB: Double? = nil, swapGB: Double? = nil,
                reservedMB: Int = StorageRequest.defaultReservedMB, memoryBytes: UInt64, singleDisk: Bool) {
        self.layout = layout
        self.lvmSizeGB = lvmSizeGB
        self.swapGB = swapGB
        self.reservedMB = reservedMB
        self.memoryBytes = memoryBytes
        self.singleDisk = singleDisk
    }

    /// The RAM in whole GiB, rounded down like `free -g`.
    public var memoryGiB: Int64 { Int64(memoryBytes >> 30) }

    /// The swap size in MiB (0: no swap): `swapGB` when given; else, like today's installer, RAM/2 (at most
    /// 128 GiB) on a machine with several disks and sqrt(RAM) rounded to whole GiB on a single disk; never
    /// below 1 GiB.
    public var swapMiB: Int64 {
        if let swapGB { return Self.mebibytes(gibibytes: swapGB) }
        return Self.automaticSwapGiB(memoryGiB: memoryGiB, singleDisk: singleDisk) * 1024
    }

    /// How the swap size was chosen, for the plan and the log.
    public var swapReason: String {
        if swapGB != nil { return swapMiB == 0 ? "no swap, as configured" : "as configured" }
        return singleDisk ? "sqrt of \(memoryGiB) GiB RAM, single disk" : "half of \(memoryGiB) GiB RAM, at most 128 GiB"
    }

    static func automaticSwapGiB(memoryGiB: Int64, singleDisk: Bool) -> Int64 {
        let size = singleDisk ? Int64(Double(memoryGiB).squareRoot().rounded()) : min(memoryGiB / 2, 128)
        return max(size, 1)
    }

    /// `gibibytes` in whole MiB (rounded to the nearest).
    static func mebibytes(gibibytes: Double) -> Int64 {
        Int64((gibibytes * 1024).rounded())
    }

    /// Problems with the numbers themselves (independent of any disk); empty when the request can be planned.
    public var problems: [String] {
        var found: [String] = []
        if let swapGB, !(swapGB.isFinite && swapGB >= 0) {
            found.append("swap size \(swapGB) GB: it must be 0 (no swap) or more")
        }
        if let lvmSizeGB, !(lvmSizeGB.isFinite && lvmSizeGB >= 0) {
            found.append("LVM size \(lvmSizeGB) GB: it must be 0 (no LVM) or more")
        }
        if reservedMB < 0 { found.append("reserved size \(reservedMB) MB: it must be 0 (none) or more") }
        return found
    }
}

extension StorageRequest {
    /// MemTotal from `/proc/meminfo` text, in bytes; `nil` when the line is missing.
    public static func memoryBytes(meminfo text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kibibytes = UInt64(fields[1]) else { return nil }
            return kibibytes * 1024
        }
        return nil
    }

    /// The machine's RAM from `<proc>/meminfo`; `nil` when it cannot be read.
    public static func memoryBytes(paths: HostPaths) -> UInt64? {
        SysfsFiles.contents(paths.proc + "/meminfo").flatMap { memoryBytes(meminfo: $0) }
    }
}

extension StorageRequest {
    /// The request the configuration's `storage:` section makes on a machine with `memoryBytes` of RAM.
    public init(config: StorageConfig, memoryBytes: UInt64, singleDisk: Bool) {
        let layout: Layout
        switch config.layout {
        case .emt: layout = .emt
        case .vm: layout = .vm
        case .none: layout = .none
        }
        let swapGB: Double?
        switch config.swap {
        case .auto: swapGB = nil
        case .gb(let value): swapGB = value
        }
        self.init(layout: layout, lvmSizeGB: config.lvmSizeGB, swapGB: swapGB, reservedMB: config.reservedMB,
                  memoryBytes: memoryBytes, singleDisk: singleDisk)
    }
}
