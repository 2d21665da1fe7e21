/// `install-os list-disks`: every disk with its verdict, and what the verdicts could take into account.
public struct DiskListing: Sendable, Encodable {
    public var verdicts: [DiskVerdict]
    /// The medium found, if any (its disk is excluded).
    public var medium: BootMedium?
    public var requirement: SizeRequirement
    /// What could not be checked (no medium, no image), in words.
    public var notes: [String]
}
