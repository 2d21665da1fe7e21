import DiskKit
import Foundation
import ISOKit
import StreamKit

/// What goes on the install medium besides GRUB: the edited µOS and how to boot it.
public struct HybridISOInputs: Sendable {
    /// The µOS kernel and the edited initramfs (what `MicroOSBuild` wrote).
    public var kernel: String
    public var initramfs: String
    public var arguments: KernelArguments
    /// The installer configuration copied to the writable config partition, if any.
    public var installerConfig: String?
    /// The EMT OS raw image (`.raw.gz`, `.raw.zst` or `.raw.xz`) the installer writes, carried in `/images/`.
    public var osImage: String?
    /// A host directory carried as `/user-apps/` (links kept): install-os copies it to the installed
    /// system's persistent partition.
    public var userApps: String?
    /// Identifies this medium to GRUB (and later to install-os): `/.disk/emts-iso-<buildID>`.
    public var buildID: String
    /// Every time on the medium (volume, files, FAT images), for reproducible bytes.
    public var epoch: Int64
    public var volumeID: String
    public var secureBoot: SecureBootMode

    public init(kernel: String, initramfs: String, arguments: KernelArguments, installerConfig: String? = nil,
                osImage: String? = nil, userApps: String? = nil, buildID: String, epoch: Int64,
                volumeID: String = HybridISOBuild.defaultVolumeID, secureBoot: SecureBootMode = .none) {
        self.secureBoot = secureBoot
        self.userApps = userApps
        self.kernel = kernel
        self.initramfs = initramfs
        self.arguments = arguments
        self.installerConfig = installerConfig
        self.osImage = osImage
        self.buildID = buildID
        self.epoch = epoch
        self.volumeID = volumeID
    }
}

/// The record of an ISO write, for the manifest.
public struct HybridISOReport: Codable, Sendable, Equatable {
    public var output: String
    public var bytes: UInt64
    public var volumeID: String
    public var buildID: String
    /// The kernel command line of the "Install EMT-S" entry, as the kernel receives it (after GRUB's
    /// `BOOT_IMAGE=` when GRUB boots it).
    public var commandLine: String
    public var secureBoot: String
    public var espBytes: UInt64
    public var configPartitionBytes: UInt64
    /// El Torito entries, as `platform:image`.
    public var elTorito: [String]
    /// The partition table as libblkid reads it back from the written image.
    public var partitions: [PartitionRecord]
    /// Where the editable kernel arguments sit (also on the medium, `/boot/grub/kargs.json`).
    public var kargs: KargsMap
    /// The OS image carried in `/images/`, if any.
    public var osImage: OSImagePayload?
    /// The user apps carried in `/user-apps/`, if any.
    public var userApps: UserAppsPayload?
    /// Things the user should know about the result (an unsigned kernel under `shim`, ...).
    public var warnings: [String]
}

/// One partition-table entry of the written image.
public struct PartitionRecord: Codable, Sendable, Equatable {
    /// "gpt" or "dos".
    public var table: String
    public var number: Int
    public var startBytes: UInt64
    public var sizeBytes: UInt64
    /// The GPT type GUID, or the MBR type byte as two hex digits.
    public var type: String
    public var name: String?
    public var active: Bool

    public init(table: String, number: Int, startBytes: UInt64, sizeBytes: UInt64, type: String, name: String?,
                active: Bool) {
        self.table = table
        self.number = number
        self.startBytes = startBytes
        self.sizeBytes = sizeBytes
        self.type = type
        self.name = name
        self.active = active
    }
}

/// The user applications on the medium, `/user-apps/`: how many files and bytes.
public struct UserAppsPayload: Codable, Sendable, Equatable {
    public var path: String
    public var files: Int
    public var bytes: UInt64

    /// Counts the regular files under `hostDirectory` (links not followed).
    /// - Throws: `HybridISOError.io` when it is not a directory.
    static func measure(_ hostDirectory: String) throws(HybridISOError) -> UserAppsPayload {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: hostDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .io(path: hostDirectory, step: "adding the user apps", reason: "not a directory")
        }
        var files = 0
        var bytes: UInt64 = 0
        let walker = FileManager.default.enumerator(atPath: hostDirectory)
        while let relative = walker?.nextObject() as? String {
            var info = stat()
            if lstat(hostDirectory + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                files += 1
                bytes += UInt64(info.st_size)
            }
        }
        return UserAppsPayload(path: "/user-apps", files: files, bytes: bytes)
    }
}

/// The OS image on the medium: `/images/<name>` and `/images/<name>.sha256` (sha256sum's format).
public struct OSImagePayload: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: UInt64
    public var sha256: String

    /// The image's name must say its compression, and its first bytes must agree.
    public static let suffixes = [".raw.gz": [UInt8](arrayLiteral: 0x1F, 0x8B), ".raw.zst": [0x28, 0xB5, 0x2F, 0xFD],
                                  ".raw.xz": [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]]

    /// Checks and digests `hostPath`, streaming.
    /// - Throws: `HybridISOError.io` naming the file when it cannot be read or is not a compressed raw image.
    static func inspect(_ hostPath: String) throws(HybridISOError) -> (name: String, bytes: UInt64, sha256: String) {
        let name = URL(fileURLWithPath: hostPath).lastPathComponent
        guard let magic = suffixes.first(where: { name.hasSuffix($0.key) })?.value else {
            throw .io(path: hostPath, step: "checking the OS image",
                      reason: "its name must end in .raw.gz, .raw.zst or .raw.xz")
        }
        let head: Data
        do {
            guard let handle = FileHandle(forReadingAtPath: hostPath) else {
                throw HybridISOError.io(path: hostPath, step: "reading the OS image", reason: "cannot open it")
            }
            defer { try? handle.close() }
            head = try handle.read(upToCount: 8) ?? Data()
        } catch let error as HybridISOError {
            throw error
        } catch {
            throw .io(path: hostPath, step: "reading the OS image", reason: "\(error)")
        }
        guard !head.isEmpty else { throw .io(path: hostPath, step: "checking the OS image", reason: "it is empty") }
        guard head.starts(with: magic) else {
            throw .io(path: hostPath, step: "checking the OS image",
                      reason: "its content does not start as its name's compression says")
        }
        do {
            let digest = try FileDigest.sha256(of: hostPath)
            return (name, digest.bytes, digest.sha256)
        } catch {
            throw .io(path: hostPath, step: "reading the OS image", reason: "\(error)")
        }
    }
}

/// Writes the hybrid ISO: ISO 9660 + Rock Ridge + Joliet, El Torito BIOS (GRUB i386-pc) and EFI (the appended
/// ESP) entries, GRUB's hybrid MBR with a protective MBR + GPT, partition offset 16, a forced active MBR
/// entry, and the ESP and config FAT images appended as GPT partitions 2 and 3. Boots on BIOS and UEFI, from CD
/// and from a USB stick it was written to; under Secure Boot with `shim` or `sign`.
public enum HybridISOBuild {
    public static let defaultVolumeID = "EMTS_INSTALL"
    public static let biosImagePath = "/boot/grub/i386-pc/eltorito.img"

    /// Builds the GRUB images and FAT partitions in a scratch directory beside `output`, then writes the ISO
    /// atomically to `output`.
    /// - Throws: `HybridISOError` (a tool, an input), `ISOError` (libisofs).
    public static func write(_ inputs: HybridISOInputs, to output: String) throws -> HybridISOReport {
        try inputs.secureBoot.preflight()
        let scratch = try ScratchDirectory(beside: output)
        let grub = GrubImages(buildID: inputs.buildID)
        let bios = scratch.file("eltorito.img")
        try grub.buildBIOSImage(to: bios)
        let medium = BootMenu.mediumArgument(buildID: inputs.buildID)
        let installLine = inputs.arguments.commandLine + " " + medium
        var warnings: [String] = []

        let espPlan: ESPImage
        var uefiCommandLine = "BOOT_IMAGE=/boot/vmlinuz " + installLine
        var signedImage: String?
        switch inputs.secureBoot {
        case .none:
            let uefi = scratch.file("BOOTX64.EFI")
            try grub.buildUEFIImage(to: uefi)
            espPlan = ESPImage(bootLoader: uefi, buildID: inputs.buildID, epoch: inputs.epoch)
        case let .shim(loaders):
            if !ShimLoaders.kernelIsSigned(inputs.kernel) {
                warnings.append("the kernel \(inputs.kernel) carries no signature: with Secure Boot on, the signed "
                                + "GRUB refuses to boot it")
            }
            espPlan = ESPImage(bootLoader: loaders.shim, secondStage: loaders.grub, mokManager: loaders.mokManager,
                               buildID: inputs.buildID, epoch: inputs.epoch)
        case let .sign(identity):
            let uki = scratch.file("emt-s.efi")
            try UnifiedKernelImage(kernel: inputs.kernel, initramfs: inputs.initramfs, commandLine: installLine,
                                   osRelease: osRelease(buildID: inputs.buildID), timestamp: inputs.epoch).build(to: uki)
            let signedUKI = scratch.file("emt-s.signed.efi")
            try identity.sign(uki, to: signedUKI, what: "the unified kernel image")
            let loader = scratch.file("systemd-bootx64.efi")
            try identity.sign(systemdBoot, to: loader, what: "systemd-boot (\(systemdBoot))")
            let menu = try LoaderMenu(commandLine: installLine).files()
            espPlan = ESPImage(bootLoader: loader,
                               extraFiles: menu + [FATImage.File(path: String(LoaderMenu.imagePath.dropFirst()),
                                                                 source: .path(signedUKI))],
                               buildID: inputs.buildID, epoch: inputs.epoch)
            uefiCommandLine = installLine
            signedImage = LoaderMenu.imagePath
        }
        let esp = scratch.file("esp.img")
        let espBytes = try espPlan.build(to: esp)
        let config = scratch.file("config.img")
        let configBytes = try ConfigPartitionImage(installerConfig: inputs.installerConfig, buildID: inputs.buildID,
                                                   epoch: inputs.epoch).build(to: config)

        let image = try ISOImage(volumeID: inputs.volumeID, publisher: "Edge Microvisor Toolkit Standalone",
                                 applicationID: "emts-iso", timestamp: inputs.epoch)
        try image.addFile(biosImagePath, hostPath: bios)
        try image.addFile("/boot/vmlinuz", hostPath: inputs.kernel)
        try image.addFile("/boot/initramfs.img", hostPath: inputs.initramfs)
        let menu = try BootMenu(buildID: inputs.buildID).render(template: try BootMenu.shippedTemplate())
        try image.addFile("/boot/grub/grub.cfg", contents: Array(menu.utf8))
        let kargs = KargsArea()
        try image.addFile(KargsArea.path, contents: try kargs.encode(inputs.arguments))
        let kargsMap = kargs.map(for: inputs.arguments, signedImage: signedImage)
        try image.addFile(KargsMap.path, contents: try kargsMap.areaBytes())
        try image.addFile(grub.mediumTagPath, contents: [UInt8]())
        // Debian's signed GRUB looks for /.disk/info to find its medium.
        try image.addFile("/.disk/info", contents: Array("EMT-S install medium \(inputs.buildID)\n".utf8))

        var payload: OSImagePayload?
        if let osImage = inputs.osImage {
            let (name, bytes, digest) = try OSImagePayload.inspect(osImage)
            try image.addFile("/images/\(name)", hostPath: osImage)
            try image.addFile("/images/\(name).sha256", contents: Array("\(digest)  \(name)\n".utf8))
            payload = OSImagePayload(path: "/images/\(name)", bytes: bytes, sha256: digest)
        }
        var userApps: UserAppsPayload?
        if let directory = inputs.userApps {
            userApps = try UserAppsPayload.measure(directory)
            try image.addTree("/user-apps", hostDirectory: directory)
        }

        let catalog = ElToritoCatalog(entries: [.grubBIOS(biosImagePath), .efi(appendedPartition: 2)])
        var options = ISOWriteOptions.reproducible(epoch: inputs.epoch)
        options.elTorito = catalog
        options.systemArea = .grubHybrid(mbrTemplatePath: SystemArea.debianGRUBHybridMBR,
                                         appendedPartitions: [.efiSystem(number: 2, hostPath: esp),
                                                              .fatData(number: 3, hostPath: config)])
        // The kargs files' offsets are known only once libisofs has laid the image out: fill them into the
        // map's own fixed-size area before the image is renamed into place.
        var placedMap = kargsMap
        var partitions: [PartitionRecord] = []
        let written = try image.write(to: output, options: options, beforeCommit: { temporary in
            placedMap = try kargsMap.place(in: temporary)
            partitions = try Self.partitions(of: temporary)
        })
        return HybridISOReport(output: output, bytes: written.bytes, volumeID: inputs.volumeID, buildID: inputs.buildID,
                               commandLine: uefiCommandLine, secureBoot: inputs.secureBoot.name, espBytes: espBytes,
                               configPartitionBytes: configBytes,
                               elTorito: ["bios:\(biosImagePath)", "efi:appended-partition-2"],
                               partitions: partitions, kargs: placedMap, osImage: payload, userApps: userApps,
                               warnings: warnings)
    }

    /// systemd-boot-efi's boot manager, signed for the `sign` mode.
    public static let systemdBoot = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

    /// The unified kernel image's `.osrel` section.
    static func osRelease(buildID: String) -> String {
        """
        NAME="EMT-S install medium"
        ID=emts-install
        PRETTY_NAME="EMT-S install medium \(buildID)"
        IMAGE_ID=emts-install
        IMAGE_VERSION=\(buildID)

        """
    }

    /// The partition table of the image at `path` as libblkid reads it (the GPT of a hybrid ISO).
    public static func partitions(of path: String) throws -> [PartitionRecord] {
        var records: [PartitionRecord] = []
        let report = try Blkid.probe(path)
        if let table = report.partitionTable {
            for partition in table.partitions {
                records.append(PartitionRecord(
                    table: table.type, number: partition.number, startBytes: partition.startBytes,
                    sizeBytes: partition.sizeBytes,
                    type: partition.typeGUID ?? String(format: "%02x", partition.mbrType),
                    name: partition.name, active: partition.isActive))
            }
        }
        return records
    }
}
