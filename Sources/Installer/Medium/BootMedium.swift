/// The EMT-S install medium this machine booted from: an ISO written to a CD, or dd'd to a USB stick.
///
/// Its ISO 9660 file system (label `EMTS_INSTALL`) carries `/.disk/emts-iso-<build id>`, `/.disk/info`
/// ("EMT-S install medium <build id>") and the OS image in `/images/`. On a stick the ISO 9660 tree spans
/// the whole device (and shows again as GPT partition 1), partition 2 is the ESP (FAT, `EMTS-EFI`) and
/// partition 3 the writable config partition (FAT, `EMTS-CONFIG`) with `installer.yaml` and `logs/`.
public struct BootMedium: Sendable, Equatable, Encodable {
    /// The ISO 9660 volume label of every EMT-S medium.
    public static let volumeLabel = "EMTS_INSTALL"
    /// The FAT label of the writable config partition.
    public static let configLabel = "EMTS-CONFIG"
    /// The FAT label of the medium's ESP.
    public static let espLabel = "EMTS-EFI"
    /// The folder with the build id tag and `info`.
    public static let tagDirectory = "/.disk"
    public static let tagPrefix = "emts-iso-"

    /// The device whose ISO 9660 file system is mounted (`/dev/sdb`, `/dev/sr0`).
    public var device: String
    /// The whole disk holding the medium (`sdb`).
    public var disk: String
    /// The disk and all its partitions: none of them may be an install target.
    public var deviceNames: [String]
    public var buildID: String
    /// The text of `/.disk/info`, when present.
    public var info: String?
    /// The writable config partition (`/dev/sdb3`), `nil` on a CD or when it is missing.
    public var configPartition: String?
    /// Where the medium's files are visible.
    public var mount: MountedFileSystem

    public init(device: String, disk: String, deviceNames: [String], buildID: String, info: String?,
                configPartition: String?, mount: MountedFileSystem) {
        self.device = device
        self.disk = disk
        self.deviceNames = deviceNames
        self.buildID = buildID
        self.info = info
        self.configPartition = configPartition
        self.mount = mount
    }

    /// The medium's `/images` folder.
    public var imagesDirectory: String { mount.path(OSImage.directory) }

    private enum CodingKeys: String, CodingKey {
        case device, disk, deviceNames, buildID, info, configPartition, mountPoint
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(device, forKey: .device)
        try container.encode(disk, forKey: .disk)
        try container.encode(deviceNames, forKey: .deviceNames)
        try container.encode(buildID, forKey: .buildID)
        try container.encodeIfPresent(info, forKey: .info)
        try container.encodeIfPresent(configPartition, forKey: .configPartition)
        try container.encode(mount.root, forKey: .mountPoint)
    }
}
