/// A GPT GUID (partition type, disk or partition id).
///
/// `bytes` are in the order of the text form ("C12A7328-F81F-11D2-..."): the first three groups are
/// stored little-endian on disk, which `diskBytes` gives.
public struct GUID: Sendable, Hashable, CustomStringConvertible {
    /// The 16 bytes in text order.
    public let bytes: [UInt8]

    /// A GUID from 16 bytes in text order.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" (any case, dashes optional).
    public init?(_ text: String) {
        let hex = text.filter { $0 != "-" }
        guard hex.count == 32 else { return nil }
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        bytes = result
    }

    /// A version 4 (RFC 4122 variant) GUID that depends only on `seed`: the same seed always gives the
    /// same GUID. Not a secret: it only keeps reproducible builds from sharing random ids.
    public init(seed: String) {
        // Two FNV-1a 64-bit hashes with different offset bases, then the RFC 4122 version and variant bits.
        func fnv(_ basis: UInt64) -> UInt64 {
            var hash = basis
            for byte in seed.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            return hash
        }
        let high = fnv(0xCBF2_9CE4_8422_2325)
        let low = fnv(0x6C62_272E_07BB_0142 ^ high)
        var result = (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        result[6] = (result[6] & 0x0F) | 0x40
        result[8] = (result[8] & 0x3F) | 0x80
        bytes = result
    }

    /// The on-disk (UEFI) byte order libisofs expects: groups 1-3 little-endian, groups 4-5 as is.
    public var diskBytes: [UInt8] {
        [bytes[3], bytes[2], bytes[1], bytes[0], bytes[5], bytes[4], bytes[7], bytes[6]] + bytes[8...]
    }

    public var description: String {
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]]
            .map { $0.joined() }.joined(separator: "-")
    }

    /// EFI System partition.
    public static let efiSystem = GUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")!
    /// Microsoft basic data (FAT, exFAT, NTFS; also what libisofs gives the ISO 9660 partition).
    public static let basicData = GUID("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")!
    /// Linux file system data.
    public static let linuxFilesystem = GUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4")!
}

/// One El Torito boot catalog entry.
public struct ElToritoEntry: Sendable, Hashable {
    /// Where the boot image is.
    public enum Image: Sendable, Hashable {
        /// A regular file in the image tree ("/boot/grub/i386-pc/eltorito.img").
        case file(String)
        /// A whole partition appended after the ISO (`SystemArea.appendedPartitions`), as xorriso's
        /// "--interval:appended_partition_N:all::". Needs no emulation.
        case appendedPartition(Int)
    }

    /// The El Torito platform id.
    public struct Platform: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// 80x86 PC BIOS.
        public static let bios = Platform(rawValue: 0x00)
        public static let powerPC = Platform(rawValue: 0x01)
        public static let mac = Platform(rawValue: 0x02)
        /// UEFI.
        public static let efi = Platform(rawValue: 0xEF)

        public var description: String {
            switch self {
            case .bios: "BIOS"
            case .powerPC: "PPC"
            case .mac: "Mac"
            case .efi: "UEFI"
            default: "0x" + String(rawValue, radix: 16)
            }
        }
    }

    /// The emulation the firmware applies to the boot image.
    public enum Emulation: Sendable, Hashable {
        case none
        /// The image must be exactly 1200, 1440 or 2880 KiB.
        case floppy
        /// The image must start with an MBR holding one partition.
        case hardDisk
    }

    /// How much of the image the firmware loads (no emulation only).
    public enum LoadSize: Sendable, Hashable {
        /// This many 512-byte sectors (GRUB's El Torito image wants 4).
        case sectors(UInt16)
        /// The whole image, rounded up to 512 bytes, capped at 65535 sectors (`el_torito_set_full_load`).
        case wholeImage
    }

    /// Patches libisofs applies to its copy of a boot image file (`el_torito_set_isolinux_options`);
    /// the file in the tree and on the host stays unchanged.
    public struct Patches: OptionSet, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// Bit 0: the 56-byte boot info table at byte 8 of the image (mkisofs -boot-info-table):
        /// LBA of the PVD, of the image itself, its length and checksum.
        public static let bootInfoTable = Patches(rawValue: 1 << 0)
        /// Bit 9: GRUB2 boot info (xorriso --grub2-boot-info): the image's 512-byte block address + 2,
        /// as two little-endian 32-bit words (low first) inside the image, where GRUB's El Torito
        /// image looks for the rest of core.img. Combinable with `bootInfoTable`.
        public static let grub2BootInfo = Patches(rawValue: 1 << 9)
    }

    public var image: Image
    public var platform: Platform
    public var emulation: Emulation
    public var loadSize: LoadSize
    public var patches: Patches
    /// The real-mode segment to load a no-emulation image at; `nil` is the BIOS default 0x07C0.
    public var loadSegment: UInt16?

    public init(image: Image, platform: Platform, emulation: Emulation = .none, loadSize: LoadSize = .sectors(4),
                patches: Patches = [], loadSegment: UInt16? = nil) {
        self.image = image
        self.platform = platform
        self.emulation = emulation
        self.loadSize = loadSize
        self.patches = patches
        self.loadSegment = loadSegment
    }

    /// GRUB's i386-pc El Torito image (grub-mkimage -O i386-pc-eltorito) at `path` in the tree, as
    /// grub-mkrescue writes it: BIOS, no emulation, load size 4, boot info table and GRUB2 boot info.
    public static func grubBIOS(_ path: String) -> ElToritoEntry {
        ElToritoEntry(image: .file(path), platform: .bios, emulation: .none, loadSize: .sectors(4),
                      patches: [.bootInfoTable, .grub2BootInfo])
    }

    /// A UEFI entry for the EFI system partition appended as partition `number`, loading all of it.
    public static func efi(appendedPartition number: Int) -> ElToritoEntry {
        ElToritoEntry(image: .appendedPartition(number), platform: .efi, emulation: .none, loadSize: .wholeImage)
    }
}

/// The El Torito boot catalog and its entries, first entry the default (initial) one.
public struct ElToritoCatalog: Sendable, Hashable {
    /// Where the catalog appears in the tree ("/boot.catalog"); its directory must exist.
    public var catalogPath: String
    /// Keep the catalog out of the directory trees (it still occupies its block).
    public var hidden: Bool
    /// One to 32 entries.
    public var entries: [ElToritoEntry]

    public init(catalogPath: String = "/boot.catalog", hidden: Bool = false, entries: [ElToritoEntry]) {
        self.catalogPath = catalogPath
        self.hidden = hidden
        self.entries = entries
    }
}

/// The `options` of `iso_write_opts_set_system_area` for an MBR-type system area (type bits 2-7 = 0).
public struct SystemAreaOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Bit 0 (xorriso --protective-msdos-label): patch bytes 446-511 so one MBR partition covers the
    /// image from its second 512-byte block to its end. When the appended partitions go into a GPT,
    /// libisofs turns this entry into the GPT's protective 0xEE entry.
    public static let protectiveMSDOSLabel = SystemAreaOptions(rawValue: 1 << 0)
    /// Bits 8-9 value 1: always pad the image to a cylinder boundary.
    public static let alignToCylinders = SystemAreaOptions(rawValue: 1 << 8)
    /// Bits 8-9 value 2: never pad the image to a cylinder boundary (sizes stay exact; GRUB's
    /// hybrid MBR does not need cylinder alignment).
    public static let neverAlignToCylinders = SystemAreaOptions(rawValue: 2 << 8)
    /// Bits 8-9 value 3: always align, and pad and align the appended partitions too.
    public static let alignAppendedToCylinders = SystemAreaOptions(rawValue: 3 << 8)
    /// Bit 14 (xorriso --grub2-mbr): GRUB2 boot provisions: patch bytes 0x1B0-0x1B7 of the MBR with the
    /// 512-byte block address + 4 of the first El Torito boot image (little-endian 64 bits), where
    /// boot_hybrid.img reads the address of the rest of core.img.
    public static let grub2BootProvisions = SystemAreaOptions(rawValue: 1 << 14)
    /// Bit 15 (xorriso --mbr-force-bootable): make sure an MBR entry carries the bootable/active flag,
    /// which some BIOSes require before they boot a USB stick; at worst a dummy type 0x00 entry covering
    /// block 0.
    public static let forceBootable = SystemAreaOptions(rawValue: 1 << 15)

    /// design.md's GRUB hybrid layout: 0x4201 | 0x8000.
    public static let grubHybrid: SystemAreaOptions = [protectiveMSDOSLabel, neverAlignToCylinders,
                                                       grub2BootProvisions, forceBootable]
}

/// A host file appended after the ISO 9660 data as a partition (`iso_write_opts_set_partition_img`),
/// padded to a multiple of 2048 bytes.
public struct AppendedPartition: Sendable, Hashable {
    /// The partition table slot, 1 to 4 (1 would leave the ISO 9660 data outside any partition).
    public var number: Int
    /// The MBR type byte; 0xEF also selects the EFI System GUID in a GPT, anything else Basic Data.
    public var mbrType: UInt8
    /// The file to copy, read when the image is written.
    public var hostPath: String
    /// A GPT type GUID overriding the one `mbrType` implies (`iso_write_opts_set_part_type_guid`).
    public var typeGUID: GUID?

    public init(number: Int, mbrType: UInt8, hostPath: String, typeGUID: GUID? = nil) {
        self.number = number
        self.mbrType = mbrType
        self.hostPath = hostPath
        self.typeGUID = typeGUID
    }

    /// An EFI system partition image (MBR type 0xEF, GPT type EFI System).
    public static func efiSystem(number: Int = 2, hostPath: String) -> AppendedPartition {
        AppendedPartition(number: number, mbrType: 0xEF, hostPath: hostPath, typeGUID: .efiSystem)
    }

    /// A FAT data partition (MBR type 0x0C FAT32 LBA, GPT type Basic Data), e.g. the writable config
    /// partition.
    public static func fatData(number: Int = 3, hostPath: String) -> AppendedPartition {
        AppendedPartition(number: number, mbrType: 0x0C, hostPath: hostPath, typeGUID: .basicData)
    }
}

/// How the GPT disk GUID is chosen (partition GUIDs follow from it: libisofs XORs the partition number
/// into the disk GUID at byte 9).
public enum GPTDiskGUID: Sendable, Hashable {
    /// Pseudo-random on every write (not reproducible).
    case random
    /// Derived from the volume uuid, i.e. `ISOWriteOptions.volumeTimestamp`, which must be set
    /// (`iso_write_opts_set_gpt_guid` mode 2, what xorriso does with SOURCE_DATE_EPOCH).
    case fromVolumeTimestamp
    /// Exactly this GUID (mode 1); `GUID(seed:)` makes one from a build id.
    case fixed(GUID)
}

/// The first 32 KiB of the image and the partitions appended after it: what makes the ISO boot from a
/// USB stick or disk.
public struct SystemArea: Sendable, Hashable {
    /// The host file holding the MBR template (GRUB's boot_hybrid.img, 512 bytes), at most 32768 bytes,
    /// padded with zeros; `nil` starts from zeros.
    public var mbrTemplatePath: String?
    public var options: SystemAreaOptions
    /// Where the ISO 9660 partition starts, in 2048-byte blocks: 0 (no offset) or at least 16. With an
    /// offset libisofs writes a second superblock and directory tree there, so the partition mounts too.
    public var partitionOffset: UInt32
    /// The partitions to append, in any order (written in number order).
    public var appendedPartitions: [AppendedPartition]
    /// List the appended partitions in a GPT (primary and backup) behind a protective MBR, rather than
    /// in the MBR (`iso_write_opts_set_appended_as_gpt`).
    public var appendedAsGPT: Bool
    /// The GPT type of the partition that covers the ISO 9660 data (xorriso -iso_mbr_part_type);
    /// `nil` leaves libisofs's choice.
    public var isoPartitionTypeGUID: GUID?
    public var gptDiskGUID: GPTDiskGUID

    public init(mbrTemplatePath: String? = nil, options: SystemAreaOptions = [], partitionOffset: UInt32 = 0,
                appendedPartitions: [AppendedPartition] = [], appendedAsGPT: Bool = false,
                isoPartitionTypeGUID: GUID? = nil, gptDiskGUID: GPTDiskGUID = .fromVolumeTimestamp) {
        self.mbrTemplatePath = mbrTemplatePath
        self.options = options
        self.partitionOffset = partitionOffset
        self.appendedPartitions = appendedPartitions
        self.appendedAsGPT = appendedAsGPT
        self.isoPartitionTypeGUID = isoPartitionTypeGUID
        self.gptDiskGUID = gptDiskGUID
    }

    /// design.md section 4: GRUB's hybrid MBR (`mbrTemplatePath`, normally
    /// /usr/lib/grub/i386-pc/boot_hybrid.img) with options 0x4201 | 0x8000, partition offset 16, and
    /// the given partitions appended in a GPT.
    public static func grubHybrid(mbrTemplatePath: String, appendedPartitions: [AppendedPartition],
                                  gptDiskGUID: GPTDiskGUID = .fromVolumeTimestamp) -> SystemArea {
        SystemArea(mbrTemplatePath: mbrTemplatePath, options: .grubHybrid, partitionOffset: 16,
                   appendedPartitions: appendedPartitions, appendedAsGPT: true, gptDiskGUID: gptDiskGUID)
    }

    /// The standard location of GRUB's hybrid MBR on Debian (grub-pc-bin).
    public static let debianGRUBHybridMBR = "/usr/lib/grub/i386-pc/boot_hybrid.img"
}
