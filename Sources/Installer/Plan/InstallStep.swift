/// One step of an install, in the order they run. The plan lists them; `--dry-run` prints them.
public enum InstallStep: Sendable, Equatable, Encodable, CustomStringConvertible {
    case wipeSignatures(device: String)
    case writeImage(image: String, compression: ImageCompression, device: String)
    case verifyChecksum(sha256: String, checksumFile: String)
    case writeHead(device: String)
    case relocateBackupGPT(device: String, imageBytes: UInt64, diskBytes: UInt64)
    case rereadPartitionTable(device: String)
    case layOutStorage(String)
    case configureSystem([String])
    case bootEntry(String)
    case saveLog(partition: String?)
    case afterInstall(AfterInstall)

    /// A stable name for machine-readable output.
    public var code: String {
        switch self {
        case .wipeSignatures: "wipe-signatures"
        case .writeImage: "write-image"
        case .verifyChecksum: "verify-checksum"
        case .writeHead: "write-head"
        case .relocateBackupGPT: "relocate-backup-gpt"
        case .rereadPartitionTable: "reread-partition-table"
        case .layOutStorage: "storage"
        case .configureSystem: "configure-system"
        case .bootEntry: "boot-entry"
        case .saveLog: "save-log"
        case .afterInstall: "after-install"
        }
    }

    public var description: String {
        switch self {
        case .wipeSignatures(let device):
            "zero the first and last MiB of \(device) (its old partition tables)"
        case .writeImage(let image, let compression, let device):
            "decompress \(image) (\(compression.rawValue)) onto \(device) from byte 1 MiB on, in 4 MiB writes, "
                + "hashing the compressed file as it is read (the image's first MiB is held back in memory)"
        case .verifyChecksum(let sha256, let checksumFile):
            "compare the image's sha256 with \(checksumFile) (\(sha256)); on a mismatch or a damaged stream, zero "
                + "the first and last MiB again and stop"
        case .writeHead(let device):
            "write the held-back first MiB (protective MBR and primary GPT) to \(device) and fsync"
        case .relocateBackupGPT(let device, let imageBytes, let diskBytes):
            "move the backup GPT to the end of \(device) (the disk has \(HumanUnits.bytes(diskBytes)), the image "
                + "\(HumanUnits.bytes(imageBytes)))"
        case .rereadPartitionTable(let device):
            "have the kernel re-read the partition table of \(device) (BLKRRPART)"
        case .layOutStorage(let text):
            text
        case .configureSystem(let settings):
            "mount the installed root (partition rootfs) and configure it offline: "
                + (settings.isEmpty ? "nothing set beyond the network defaults" : settings.joined(separator: "; "))
        case .bootEntry(let text):
            text
        case .saveLog(let partition?):
            "save this log as \(ConfigPartition.logDirectory)/install-<time>.log on the config partition \(partition)"
        case .saveLog(nil):
            "no writable config partition on the medium: the log stays in the journal only"
        case .afterInstall(.reboot):
            "reboot into the installed system (systemctl --no-block reboot)"
        case .afterInstall(.poweroff):
            "power off (systemctl --no-block poweroff)"
        case .afterInstall(.none):
            "stay in the µOS (after_install: none)"
        }
    }

    private enum CodingKeys: String, CodingKey { case step, description }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .step)
        try container.encode(description, forKey: .description)
    }
}
