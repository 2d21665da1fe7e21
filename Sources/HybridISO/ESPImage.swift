import Foundation

/// The EFI system partition image: appended to the ISO as GPT partition 2 and referenced by the El Torito
/// EFI entry. Holds the removable-media boot path `EFI/BOOT/BOOTX64.EFI` (our GRUB; or shim with the signed
/// GRUB as `grubx64.efi` and MokManager as `mmx64.efi`; or signed systemd-boot with its menu and the signed
/// unified kernel image), sized from its contents: a fixed 2.88 MB floppy size is too small for shim +
/// signed GRUB, let alone a kernel and initramfs.
public struct ESPImage: Sendable {
    public static let label = "EMTS-EFI"

    /// `EFI/BOOT/BOOTX64.EFI`: GRUB itself, or shim.
    public var bootLoader: String
    /// `EFI/BOOT/grubx64.efi`: what shim starts.
    public var secondStage: String?
    /// `EFI/BOOT/mmx64.efi`: shim's MokManager.
    public var mokManager: String?
    /// Further files, such as a `grub.cfg` where a signed GRUB looks first.
    public var extraFiles: [FATImage.File] = []
    /// Seeds the volume id; use the build id so two media differ and two builds of one input do not.
    public var buildID: String
    public var epoch: Int64

    public init(bootLoader: String, secondStage: String? = nil, mokManager: String? = nil,
                extraFiles: [FATImage.File] = [], buildID: String, epoch: Int64 = FATImage.defaultEpoch()) {
        self.bootLoader = bootLoader
        self.secondStage = secondStage
        self.mokManager = mokManager
        self.extraFiles = extraFiles
        self.buildID = buildID
        self.epoch = epoch
    }

    /// The FAT plan this ESP builds.
    public var fatImage: FATImage {
        var files = [FATImage.File(path: "EFI/BOOT/BOOTX64.EFI", source: .path(bootLoader))]
        if let secondStage { files.append(.init(path: "EFI/BOOT/grubx64.efi", source: .path(secondStage))) }
        if let mokManager { files.append(.init(path: "EFI/BOOT/mmx64.efi", source: .path(mokManager))) }
        return FATImage(label: Self.label, volumeIDSeed: "esp:" + buildID, files: files + extraFiles, epoch: epoch)
    }

    /// Builds the image at `path`; returns its size in bytes.
    @discardableResult
    public func build(to path: String) throws(HybridISOError) -> UInt64 {
        try fatImage.build(to: path)
    }
}

/// The small writable FAT partition appended to the ISO (GPT partition 3): field engineers edit
/// `installer.yaml` on it after flashing, and install-os writes its logs there. Fixed label and size.
public struct ConfigPartitionImage: Sendable {
    public static let label = "EMTS-CONFIG"
    public static let defaultSize: UInt64 = 16 << 20
    public static let installerConfigName = "installer.yaml"

    /// Copied to `/installer.yaml` when given.
    public var installerConfig: String?
    public var size: UInt64 = ConfigPartitionImage.defaultSize
    public var buildID: String
    public var epoch: Int64

    public init(installerConfig: String?, buildID: String, epoch: Int64 = FATImage.defaultEpoch()) {
        self.installerConfig = installerConfig
        self.buildID = buildID
        self.epoch = epoch
    }

    public var fatImage: FATImage {
        let files = installerConfig.map { [FATImage.File(path: Self.installerConfigName, source: .path($0))] } ?? []
        return FATImage(label: Self.label, volumeIDSeed: "config:" + buildID, files: files, epoch: epoch,
                        sizing: .fixed(size))
    }

    @discardableResult
    public func build(to path: String) throws(HybridISOError) -> UInt64 {
        try fatImage.build(to: path)
    }
}
