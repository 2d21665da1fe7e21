/// The disk install-os will write, and why this one.
public struct TargetChoice: Sendable, Equatable, Encodable {
    public var disk: BlockDisk
    /// How the disk was chosen, in words ("named by ...", "chosen automatically: ...").
    public var reason: String
    /// The verdict on every disk of the machine, the chosen one included.
    public var verdicts: [DiskVerdict]

    public init(disk: BlockDisk, reason: String, verdicts: [DiskVerdict]) {
        self.disk = disk
        self.reason = reason
        self.verdicts = verdicts
    }
}
