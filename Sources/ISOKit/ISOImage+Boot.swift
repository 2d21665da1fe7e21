import CISOFS
import Glibc

/// One El Torito entry as found in an image read from a file.
public struct ElToritoBootRecord: Sendable, Hashable {
    public var platform: ElToritoEntry.Platform
    public var emulation: ElToritoEntry.Emulation
    /// The entry's bootable flag (0x88).
    public var bootable: Bool
    /// The load size in 512-byte sectors as recorded in the catalog.
    public var loadSectors: UInt16
    /// The load segment, 0 meaning the BIOS default 0x07C0.
    public var loadSegment: UInt16
    /// The file in the tree the entry points at; `nil` when it points outside the tree (an appended
    /// partition).
    public var imagePath: String?
    /// The patches that seem to be applied to the image (libisofs's guess from its bytes).
    public var patches: ElToritoEntry.Patches

    public init(platform: ElToritoEntry.Platform, emulation: ElToritoEntry.Emulation, bootable: Bool,
                loadSectors: UInt16, loadSegment: UInt16, imagePath: String?, patches: ElToritoEntry.Patches) {
        self.platform = platform
        self.emulation = emulation
        self.bootable = bootable
        self.loadSectors = loadSectors
        self.loadSegment = loadSegment
        self.imagePath = imagePath
        self.patches = patches
    }
}

extension ISOImage {
    // MARK: Reading boot information

    /// The El Torito entries of an image read from a file, default entry first; empty when it has none.
    /// - Throws: `ISOError` (`.importImage`) when libisofs cannot list them.
    public func elToritoEntries() throws(ISOError) -> [ElToritoBootRecord] {
        var count: Int32 = 0
        var boots: UnsafeMutablePointer<OpaquePointer?>?
        var nodes: UnsafeMutablePointer<OpaquePointer?>?
        let rc = iso_image_get_all_boot_imgs(handle, &count, &boots, &nodes, 0)
        defer {
            free(boots)
            free(nodes)
        }
        guard rc >= 0 else { throw .library(.importImage, path: sourcePath ?? volumeID, code: rc) }
        guard rc == 1, let boots else { return [] }
        return (0..<Int(count)).compactMap { index -> ElToritoBootRecord? in
            guard let boot = boots[index] else { return nil }
            var media = ELTORITO_NO_EMUL
            _ = el_torito_get_boot_media_type(boot, &media)
            let emulation: ElToritoEntry.Emulation = switch media {
            case ELTORITO_FLOPPY_EMUL: .floppy
            case ELTORITO_HARD_DISC_EMUL: .hardDisk
            default: .none
            }
            var patches: ElToritoEntry.Patches = []
            if el_torito_seems_boot_info_table(boot, 0) == 1 { patches.insert(.bootInfoTable) }
            if el_torito_seems_boot_info_table(boot, 1) == 1 { patches.insert(.grub2BootInfo) }
            var path: String?
            if let node = nodes?[index], let text = iso_tree_get_node_path(node) {
                path = String(cString: text)
                free(text)
            }
            return ElToritoBootRecord(
                platform: .init(rawValue: UInt8(truncatingIfNeeded: max(0, el_torito_get_boot_platform_id(boot)))),
                emulation: emulation, bootable: el_torito_get_bootable(boot) == 1,
                loadSectors: UInt16(truncatingIfNeeded: max(0, el_torito_get_load_size(boot))),
                loadSegment: UInt16(truncatingIfNeeded: max(0, el_torito_get_load_seg(boot))),
                imagePath: path, patches: patches)
        }
    }

    /// libisofs's description of the El Torito catalog of an image read from a file, the same lines
    /// as `xorriso -report_el_torito plain` ("El Torito boot img :   1  BIOS  y   none  0x0000 ...").
    public func elToritoReport() -> [String] {
        report(iso_image_report_el_torito)
    }

    /// libisofs's description of the system area of an image read from a file, the same lines as
    /// `xorriso -report_system_area plain` ("MBR partition    :   1  0x80  0xee ...", "GPT partition name ...").
    public func systemAreaReport() -> [String] {
        report(iso_image_report_system_area)
    }

    private func report(_ function: (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
                                     UnsafeMutablePointer<Int32>?, Int32) -> Int32) -> [String] {
        var lines: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var count: Int32 = 0
        guard function(handle, &lines, &count, 0) > 0, let lines else { return [] }
        defer {
            var dispose: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = lines
            _ = function(handle, &dispose, &count, 1 << 15)
        }
        return (0..<Int(count)).compactMap { lines[$0].map { String(cString: $0) } }
    }

    // MARK: Applying a boot catalog for one write

    /// Validates `catalog` against the tree and `systemArea`, then makes this image bootable with it.
    /// The caller removes it again with `removeElTorito()` once the image is written.
    func applyElTorito(_ catalog: ElToritoCatalog, systemArea: SystemArea?) throws(ISOError) {
        func fail(_ path: String, _ message: String) -> ISOError {
            ISOError(operation: .prepareWrite, path: path, message: message)
        }
        guard !catalog.entries.isEmpty, catalog.entries.count <= 32 else {
            throw fail(catalog.catalogPath, "an El Torito catalog needs 1 to 32 entries, not \(catalog.entries.count)")
        }
        guard iso_image_get_boot_image(handle, nil, nil, nil) == 0 else {
            throw fail(catalog.catalogPath, "the image already has an El Torito catalog")
        }
        let catalogComponents = try Self.components(of: catalog.catalogPath)
        guard !catalogComponents.isEmpty else { throw fail(catalog.catalogPath, "the boot catalog needs a file name") }
        guard try node(at: "/" + catalogComponents.dropLast().joined(separator: "/")).map({ iso_node_get_type($0) == LIBISO_DIR }) == true else {
            throw fail(catalog.catalogPath, "the boot catalog's directory is not in the image")
        }
        guard try node(at: catalog.catalogPath) == nil else {
            throw fail(catalog.catalogPath, "the boot catalog's path is taken by a file in the image")
        }
        var imagePaths: [String] = []
        for entry in catalog.entries {
            switch entry.image {
            case .file(let path):
                guard let node = try node(at: path) else { throw fail(path, "the boot image is not in the image") }
                guard iso_node_get_type(node) == LIBISO_FILE else { throw fail(path, "the boot image is not a regular file") }
                imagePaths.append(path)
            case .appendedPartition(let number):
                guard systemArea?.appendedPartitions.contains(where: { $0.number == number }) == true else {
                    throw fail("appended partition \(number)",
                               "the El Torito entry points at a partition the system area does not append")
                }
                guard entry.emulation == .none else {
                    throw fail("appended partition \(number)", "a boot image in an appended partition needs no emulation")
                }
                imagePaths.append("--interval:appended_partition_\(number):all::")
            }
        }

        var applied = false
        defer { if !applied { removeElTorito() } }
        for (index, entry) in catalog.entries.enumerated() {
            let media = switch entry.emulation {
            case .none: ELTORITO_NO_EMUL
            case .floppy: ELTORITO_FLOPPY_EMUL
            case .hardDisk: ELTORITO_HARD_DISC_EMUL
            }
            var created: OpaquePointer?
            let rc = index == 0
                ? iso_image_set_boot_image(handle, imagePaths[index], media, catalog.catalogPath, &created)
                : iso_image_add_boot_image(handle, imagePaths[index], media, 0, &created)
            guard rc >= 0, let boot = created else {
                throw .library(.prepareWrite, path: imagePaths[index], code: rc, details: ISOLibrary.messages(for: messageID))
            }
            var result = el_torito_set_boot_platform_id(boot, entry.platform.rawValue)
            guard result > 0 else { throw .library(.prepareWrite, path: imagePaths[index], code: result) }
            if let segment = entry.loadSegment { el_torito_set_load_seg(boot, Int16(bitPattern: segment)) }
            switch entry.loadSize {
            case .sectors(let sectors):
                el_torito_set_full_load(boot, 0)
                el_torito_set_load_size(boot, Int16(bitPattern: sectors))
            case .wholeImage:
                el_torito_set_full_load(boot, 1)
            }
            result = el_torito_set_isolinux_options(boot, entry.patches.rawValue, 0)
            guard result >= 0 else { throw .library(.prepareWrite, path: imagePaths[index], code: result) }
        }
        if catalog.hidden {
            let everywhere = Int32(LIBISO_HIDE_ON_RR.rawValue | LIBISO_HIDE_ON_JOLIET.rawValue
                                   | LIBISO_HIDE_ON_1999.rawValue | LIBISO_HIDE_ON_HFSPLUS.rawValue
                                   | LIBISO_HIDE_ON_FAT.rawValue)
            let rc = iso_image_set_boot_catalog_hidden(handle, everywhere)
            guard rc >= 0 else { throw .library(.prepareWrite, path: catalog.catalogPath, code: rc) }
        }
        applied = true
    }

    /// Removes the El Torito catalog and entries (and the catalog's node) from the image.
    func removeElTorito() {
        iso_image_remove_boot_image(handle)
    }
}

extension SystemArea {
    /// Checks the inputs and sets the system area, partition offset, appended partitions and GPT GUID
    /// on libisofs write options.
    func apply(to opts: OpaquePointer, volumeTimestamp: Int64?, elTorito: ElToritoCatalog?,
               path: String) throws(ISOError) {
        func fail(_ what: String, _ message: String, errno: Int32 = 0) -> ISOError {
            ISOError(operation: .prepareWrite, path: what, errno: errno, message: message)
        }
        func check(_ rc: Int32, _ what: String) throws(ISOError) {
            if rc < 0 { throw .library(.prepareWrite, path: what, code: rc) }
        }
        guard partitionOffset == 0 || partitionOffset >= 16 else {
            throw fail(path, "partition offset \(partitionOffset) is neither 0 nor at least 16 blocks")
        }
        var data = [CChar](repeating: 0, count: 32768)
        if let mbrTemplatePath {
            let bytes = try Self.readHostFile(mbrTemplatePath, limit: data.count)
            for (index, byte) in bytes.enumerated() { data[index] = CChar(bitPattern: byte) }
        }
        var numbers = Set<Int>()
        for partition in appendedPartitions {
            guard (1...4).contains(partition.number), numbers.insert(partition.number).inserted else {
                throw fail(partition.hostPath, "appended partition number \(partition.number) is not a free slot 1 to 4")
            }
            var info = stat()
            guard stat(partition.hostPath, &info) == 0 else {
                let saved = Glibc.errno
                throw fail(partition.hostPath, "cannot append partition \(partition.number): \(String(cString: strerror(saved)))",
                           errno: saved)
            }
            guard info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 else {
                throw fail(partition.hostPath, "appended partition \(partition.number) is not a non-empty regular file")
            }
            guard access(partition.hostPath, R_OK) == 0 else {
                throw fail(partition.hostPath, "cannot read appended partition \(partition.number)", errno: Glibc.errno)
            }
        }

        try check(data.withUnsafeMutableBufferPointer {
            iso_write_opts_set_system_area(opts, $0.baseAddress, self.options.rawValue, 0)
        }, path)
        try check(iso_write_opts_set_part_offset(opts, partitionOffset, 0, 0), path)
        for partition in appendedPartitions.sorted(by: { $0.number < $1.number }) {
            try check(withMutableCString(partition.hostPath) {
                iso_write_opts_set_partition_img(opts, Int32(partition.number), partition.mbrType, $0, 0)
            }, partition.hostPath)
            if let guid = partition.typeGUID {
                var bytes = guid.diskBytes
                try check(iso_write_opts_set_part_type_guid(opts, Int32(partition.number), &bytes, 1), partition.hostPath)
            }
        }
        try check(iso_write_opts_set_appended_as_gpt(opts, appendedAsGPT ? 1 : 0), path)
        if let isoPartitionTypeGUID {
            var bytes = isoPartitionTypeGUID.diskBytes
            try check(iso_write_opts_set_iso_type_guid(opts, &bytes, 1), path)
        }
        var guid = [UInt8](repeating: 0, count: 16)
        switch gptDiskGUID {
        case .random:
            try check(iso_write_opts_set_gpt_guid(opts, &guid, 0), path)
        case .fromVolumeTimestamp:
            guard volumeTimestamp != nil else {
                throw fail(path, "a GPT disk GUID from the volume timestamp needs ISOWriteOptions.volumeTimestamp")
            }
            try check(iso_write_opts_set_gpt_guid(opts, &guid, 2), path)
        case .fixed(let fixed):
            guid = fixed.diskBytes
            try check(iso_write_opts_set_gpt_guid(opts, &guid, 1), path)
        }
    }

    /// The bytes of a host file of at most `limit` bytes.
    static func readHostFile(_ path: String, limit: Int) throws(ISOError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(.prepareWrite, path: path, what: "cannot open the MBR template") }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(.prepareWrite, path: path, what: "cannot read the MBR template")
            }
            if count == 0 { break }
            filled += count
        }
        guard filled <= limit else {
            throw ISOError(operation: .prepareWrite, path: path, message: "the MBR template is larger than \(limit) bytes")
        }
        return Array(bytes[0..<filled])
    }
}
