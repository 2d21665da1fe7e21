/// A partition of a disk, as sysfs shows it, with what uses it.
public struct BlockPartition: Sendable, Equatable, Codable {
    /// Kernel name (`sda1`, `nvme0n1p2`).
    public var name: String
    /// Partition number.
    public var number: Int
    public var sizeBytes: UInt64
    /// Where it is mounted (empty when it is not).
    public var mountPoints: [String]
    /// Devices stacked on it (`dm-0` for LVM or dm-crypt, `md127` for RAID).
    public var holders: [String]
    /// Whether it is an active swap device.
    public var isSwap: Bool

    public init(name: String, number: Int, sizeBytes: UInt64, mountPoints: [String] = [], holders: [String] = [],
                isSwap: Bool = false) {
        self.name = name
        self.number = number
        self.sizeBytes = sizeBytes
        self.mountPoints = mountPoints
        self.holders = holders
        self.isSwap = isSwap
    }
}
