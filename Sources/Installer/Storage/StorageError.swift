import DiskKit

/// Planning or laying out the storage partitions failed.
public enum StorageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The request's numbers cannot be used (a negative size, say).
    case invalidRequest([String])
    /// libparted could not read, change or write the partition table.
    case partitionTable(PartedError)
    /// The disk's table is not the one the image leaves (not GPT, partitions missing or already added).
    case unexpectedTable(disk: String, detail: String)
    /// `what` needs `neededMiB` but only `freeMiB` are free for it; `detail` lists the parts.
    case doesNotFit(disk: String, what: String, neededMiB: Int64, freeMiB: Int64, detail: String)
    /// The table read back after the commit differs from the plan.
    case readBack(disk: String, detail: String)
    /// The kernel did not show these partition nodes within `seconds` after the commit.
    case deviceNodesMissing([String], seconds: Double)
    /// A tool could not be started (not installed, say).
    case commandUnavailable(CommandError)
    /// A tool exited with an error; `output` is what it printed (standard error, then standard output).
    case commandFailed(command: [String], status: Int32, output: String)
    /// A tool succeeded but did not print what was expected.
    case unexpectedOutput(command: [String], detail: String, output: String)
    /// A volume group of the name the layout creates uses disks other than the target, which are never
    /// touched.
    case volumeGroupOnOtherDisks(name: String, devices: [String])
    /// The staging directory for the root hash file could not be made.
    case staging(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidRequest(let problems):
            "storage request not usable: " + problems.joined(separator: "; ")
        case .partitionTable(let error):
            error.description
        case .unexpectedTable(let disk, let detail):
            "\(disk): \(detail)"
        case .doesNotFit(let disk, let what, let needed, let free, let detail):
            "\(disk): \(what) does not fit: it needs \(needed) MiB, \(free) MiB \(free == 1 ? "is" : "are") free "
                + "(\(needed - free) MiB short)" + (detail.isEmpty ? "" : "; \(detail)")
        case .readBack(let disk, let detail):
            "\(disk): the partition table read back differs from the plan: \(detail)"
        case .deviceNodesMissing(let nodes, let seconds):
            "the kernel shows no \(nodes.joined(separator: ", ")) \(Int(seconds)) s after the partition table was written"
        case .commandUnavailable(let error):
            "cannot run \(error.command.joined(separator: " ")): \(error.reason)"
        case .commandFailed(let command, let status, let output):
            "\(command.joined(separator: " ")) exited with status \(status)"
                + (output.isEmpty ? " and printed nothing" : ": \(output)")
        case .unexpectedOutput(let command, let detail, let output):
            "\(command.joined(separator: " ")): \(detail)" + (output.isEmpty ? "" : "; it printed: \(output)")
        case .volumeGroupOnOtherDisks(let name, let devices):
            "a volume group \(name) already uses \(devices.joined(separator: ", ")), not on the target disk: "
                + "left alone (other disks are never touched); remove or rename it (vgremove/vgrename), "
                + "or install with LVM size 0"
        case .staging(let path, let reason):
            "cannot prepare the root hash file in \(path): \(reason)"
        }
    }
}
