/// Why no target disk can be used. install-os exits with code 4 for these.
public enum TargetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// sysfs lists no block devices at all.
    case noBlockDevices(path: String)
    /// The configured target names no disk of this machine.
    case unknownDevice(target: String, detail: String, available: [String])
    /// The configured target is a partition, not a disk.
    case partitionGiven(target: String, partition: String, disk: String)
    /// The configured target is a disk that must not be written.
    case notEligible(target: String, disk: String, reasons: [String])
    /// `target: auto` found no disk it may write; one line per disk says why.
    case noEligibleDisk(verdicts: [String])

    public var description: String {
        switch self {
        case .noBlockDevices(let path):
            "no block devices: \(path) cannot be listed"
        case .unknownDevice(let target, let detail, let available):
            "target \(target): \(detail); disks here: "
                + (available.isEmpty ? "none" : available.joined(separator: ", "))
        case .partitionGiven(let target, let partition, let disk):
            "target \(target) is partition \(partition); name the whole disk (\(disk))"
        case .notEligible(let target, let disk, let reasons):
            "target \(target) (\(disk)) must not be written: " + reasons.joined(separator: "; ")
        case .noEligibleDisk(let verdicts):
            "no disk to install to (target: auto):"
                + (verdicts.isEmpty ? " this machine has no disks" : "\n  " + verdicts.joined(separator: "\n  "))
        }
    }
}
