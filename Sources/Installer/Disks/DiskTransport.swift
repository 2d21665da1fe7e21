/// How a disk is attached, read from where its device sits in sysfs.
public enum DiskTransport: String, Sendable, Codable, CaseIterable {
    case nvme, sata, sas, scsi, virtio, mmc, usb, unknown

    /// The `target: auto` preference: NVMe first, then SATA/SAS/SCSI, then the rest. USB disks are never
    /// chosen automatically (`nil`): a second stick or an external drive must be named to be written.
    public var automaticTier: Int? {
        switch self {
        case .nvme: 0
        case .sata, .sas, .scsi: 1
        case .virtio, .mmc, .unknown: 2
        case .usb: nil
        }
    }

    /// How the tier reads in an explanation.
    public var label: String {
        switch self {
        case .nvme: "NVMe"
        case .sata: "SATA"
        case .sas: "SAS"
        case .scsi: "SCSI"
        case .virtio: "virtio"
        case .mmc: "eMMC/SD"
        case .usb: "USB"
        case .unknown: "unknown transport"
        }
    }

    /// The transport of the block device whose canonical sysfs path is `devicePath`, such as
    /// `/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda`.
    ///
    /// USB is checked first: a USB-attached SATA bridge shows both.
    public static func detect(sysfsPath devicePath: String) -> DiskTransport {
        let components = devicePath.split(separator: "/").map(String.init)
        func has(_ predicate: (String) -> Bool) -> Bool { components.contains(where: predicate) }
        if has({ $0.hasPrefix("usb") }) { return .usb }
        if has({ $0 == "nvme" || $0.hasPrefix("nvme-subsys") }) { return .nvme }
        if has({ $0.hasPrefix("ata") && $0.dropFirst(3).allSatisfy(\.isNumber) && $0.count > 3 }) { return .sata }
        if has({ $0.hasPrefix("virtio") }) { return .virtio }
        if has({ $0.hasPrefix("mmc_host") || ($0.hasPrefix("mmc") && $0.contains(":")) }) { return .mmc }
        if has({ $0.hasPrefix("end_device-") || $0.hasPrefix("expander-") }) { return .sas }
        if has({ $0.hasPrefix("host") }) && has({ $0.hasPrefix("target") }) { return .scsi }
        return .unknown
    }
}
