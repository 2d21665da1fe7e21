import Foundation
import HybridISO
import ISOKit
import MicroOS

/// `emts-iso inspect`: everything a medium says about itself, read back from its own bytes.
public struct MediumReport: Codable, Sendable {
    public struct ElToritoEntryRecord: Codable, Sendable, Equatable {
        /// "bios" or "uefi" (or the platform id in hex).
        public var platform: String
        public var bootable: Bool
        /// The image in the ISO tree, or where it points outside it.
        public var image: String
        public var loadSectors: Int
        public var bootInfoTable: Bool
        public var grub2BootInfo: Bool
    }

    public struct KernelArgumentsRecord: Codable, Sendable, Equatable {
        /// The command line the boot menu passes now (every area agrees, or verify says otherwise).
        public var current: String
        /// The command line built into the medium (`kargs reset` restores it).
        public var original: String
        public var modified: Bool
        public var areas: [KargsMap.File]
        public var areaSize: Int
        /// Under `--secure-boot sign`: the UEFI path's signed image, whose line only a rebuild changes.
        public var signedImage: String?
    }

    public var path: String
    public var bytes: UInt64
    public var volumeID: String
    public var buildID: String?
    /// none, shim or sign, told from the ESP's contents.
    public var secureBoot: String
    public var elTorito: [ElToritoEntryRecord]
    public var mbr: [PartitionRecord]
    public var gpt: [PartitionRecord]
    public var kernelArguments: KernelArgumentsRecord
    public var espFiles: [String]
    public var configPartitionFiles: [String]
    public var microOS: MicroOSFacts
    public var payloads: [PayloadRecord]
    /// The manifest beside the ISO (`ISO.manifest.json`), when present.
    public var manifest: InstallMediumManifest?

    /// Reads the report from `medium`.
    public init(_ medium: MediumImage) throws {
        path = medium.path
        bytes = medium.bytes
        volumeID = medium.volumeID
        buildID = medium.buildID
        elTorito = try medium.elTorito().map { entry in
            ElToritoEntryRecord(
                platform: entry.platform == .bios ? "bios" : entry.platform == .efi ? "uefi"
                    : String(format: "0x%02x", entry.platform.rawValue),
                bootable: entry.bootable, image: entry.imagePath ?? "appended partition",
                loadSectors: Int(entry.loadSectors), bootInfoTable: entry.patches.contains(.bootInfoTable),
                grub2BootInfo: entry.patches.contains(.grub2BootInfo))
        }
        (mbr, gpt) = try medium.partitions()
        let (map, _) = try medium.kargsMap()
        let lines = try medium.kernelCommandLines()
        let current = lines.first?.commandLine ?? map.defaultCommandLine
        kernelArguments = KernelArgumentsRecord(current: current, original: map.defaultCommandLine,
                                                modified: lines.contains { $0.commandLine != map.defaultCommandLine },
                                                areas: map.files, areaSize: map.size, signedImage: map.signedImage)
        espFiles = try medium.espFiles()
        secureBoot = Self.secureBootMode(espFiles: espFiles)
        configPartitionFiles = try medium.fatVolume(partition: 3).files()
        microOS = MicroOSFacts(scan: try medium.microOS())
        payloads = try medium.payloads()
        manifest = try medium.manifest()
    }

    /// Tells the `--secure-boot` mode from the ESP's files.
    static func secureBootMode(espFiles: [String]) -> String {
        if espFiles.contains(String(LoaderMenu.imagePath.dropFirst())) { return "sign" }
        if espFiles.contains("EFI/BOOT/grubx64.efi") { return "shim" }
        return "none"
    }
}
