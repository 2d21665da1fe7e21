/// Why a disk cannot be the install target.
public enum DiskExclusion: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// The medium install-os booted from (or one of its partitions).
    case bootMedium
    /// A loop, RAM, zram, device-mapper, md, optical, floppy or network block device.
    case virtualDevice(kind: String)
    /// Size 0: no medium in the drive, or a device that is not set up.
    case empty
    /// The kernel reports removable media (an SD card reader, a USB stick).
    case removable
    /// The kernel reports the device read-only.
    case readOnly
    /// A partition (or the whole disk) is mounted: `sda1 on /mnt`.
    case mounted([String])
    /// A partition (or the whole disk) is active swap.
    case swap([String])
    /// Devices are stacked on it (LVM, dm-crypt, RAID): `sda2 held by dm-0`.
    case held([String])
    /// Smaller than the image needs.
    case tooSmall(size: UInt64, required: UInt64, basis: String)
    /// The disk's logical sector size differs from the image's, so the image's partition table is wrong on it.
    case sectorSize(disk: Int, image: Int)

    /// A short, stable code for machine-readable output.
    public var code: String {
        switch self {
        case .bootMedium: "boot-medium"
        case .virtualDevice: "virtual"
        case .empty: "empty"
        case .removable: "removable"
        case .readOnly: "read-only"
        case .mounted: "mounted"
        case .swap: "swap"
        case .held: "in-use"
        case .tooSmall: "too-small"
        case .sectorSize: "sector-size"
        }
    }

    public var description: String {
        switch self {
        case .bootMedium:
            "it holds the install medium this machine booted from"
        case .virtualDevice(let kind):
            "not a disk (\(kind))"
        case .empty:
            "it has size 0 (no medium)"
        case .removable:
            "the kernel reports it removable (a USB stick or card reader)"
        case .readOnly:
            "it is read-only"
        case .mounted(let mounts):
            "mounted: " + mounts.joined(separator: ", ")
        case .swap(let devices):
            "in use as swap: " + devices.joined(separator: ", ")
        case .held(let holders):
            "in use by stacked devices (LVM, dm-crypt or RAID): " + holders.joined(separator: ", ")
        case .tooSmall(let size, let required, let basis):
            "too small: \(HumanUnits.bytes(size)) but \(HumanUnits.bytes(required)) needed (\(basis))"
        case .sectorSize(let disk, let image):
            "its logical sectors are \(disk) bytes but the image's partition table is laid out for \(image)-byte sectors"
        }
    }

    private enum CodingKeys: String, CodingKey { case code, reason }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(description, forKey: .reason)
    }
}
