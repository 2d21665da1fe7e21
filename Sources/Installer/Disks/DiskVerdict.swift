import Foundation

/// Whether a disk can be the install target, and why not.
public struct DiskVerdict: Sendable, Equatable, Encodable {
    public var disk: BlockDisk
    /// Empty when the disk is eligible.
    public var exclusions: [DiskExclusion]

    public init(disk: BlockDisk, exclusions: [DiskExclusion]) {
        self.disk = disk
        self.exclusions = exclusions
    }

    /// The disk may be written when named as the target.
    public var isEligible: Bool { exclusions.isEmpty }

    /// The disk may also be chosen by `target: auto` (eligible, and not USB).
    public var isAutomaticCandidate: Bool { isEligible && disk.transport.automaticTier != nil }

    /// One line: "eligible", "eligible when named (...)" or the exclusions.
    public var reason: String {
        if !isEligible { return exclusions.map(\.description).joined(separator: "; ") }
        if !isAutomaticCandidate { return "eligible only when named as the target (USB disks are never chosen automatically)" }
        return "eligible"
    }

    private enum CodingKeys: String, CodingKey { case disk, eligible, automatic, exclusions, reason }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(disk, forKey: .disk)
        try container.encode(isEligible, forKey: .eligible)
        try container.encode(isAutomaticCandidate, forKey: .automatic)
        try container.encode(exclusions, forKey: .exclusions)
        try container.encode(reason, forKey: .reason)
    }
}

extension DiskVerdict {
    /// The verdicts as aligned text lines: name, transport, size, model, verdict; `chosen` is marked `*`.
    public static func table(_ verdicts: [DiskVerdict], chosen: String? = nil) -> [String] {
        let rows = verdicts.map { verdict -> [String] in
            let disk = verdict.disk
            return [(disk.name == chosen ? "* " : "  ") + disk.name, disk.transport.rawValue,
                    HumanUnits.bytes(disk.sizeBytes), disk.displayModel, verdict.reason]
        }
        let header = ["  DISK", "TRANSPORT", "SIZE", "MODEL", "VERDICT"]
        let all = [header] + rows
        let widths = (0 ..< header.count - 1).map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index < widths.count ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) : cell
            }.joined(separator: "  ")
        }
    }
}
