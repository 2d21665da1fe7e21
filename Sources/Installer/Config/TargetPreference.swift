/// Which eligible disk `target: auto` takes among the disks of the best transport.
public enum TargetPreference: String, ConfigChoice {
    /// The smallest: the usual choice on edge machines with a small boot disk and a large data disk.
    case smallest
    /// The largest.
    case largest
}
