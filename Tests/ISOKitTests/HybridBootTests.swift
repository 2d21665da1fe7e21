import Foundation
import ISOKit
import Testing

private let epoch: Int64 = 1_700_000_000
private let biosImagePath = "/boot/grub/i386-pc/eltorito.img"
private let configLabel = "EMTSCONFIG"

/// The host inputs of a hybrid image: GRUB's real El Torito image, an ESP and a config FAT image.
private struct HybridInputs {
    var eltorito: URL
    var esp: URL
    var config: URL

    /// Makes them with the real tools (grub-mkimage, mkfs.vfat with fixed ids, mtools).
    init(in directory: URL) throws {
        eltorito = directory.appendingPathComponent("eltorito.img")
        esp = directory.appendingPathComponent("esp.img")
        config = directory.appendingPathComponent("config.img")
        let grub = try runTool(["grub-mkimage", "-O", "i386-pc-eltorito", "-o", eltorito.path, "-p", "/boot/grub",
                                "biosdisk", "iso9660"])
        try #require(grub.status == 0, "\(grub.output)")
        let espFAT = try runTool(["mkfs.vfat", "-C", "--invariant", "-i", "5A5A0001", "-n", "ESP", esp.path, "2048"])
        try #require(espFAT.status == 0, "\(espFAT.output)")
        let bootx64 = directory.appendingPathComponent("BOOTX64.EFI")
        try Data(patternBytes(count: 40_000, seed: 9)).write(to: bootx64)
        for arguments in [["mmd", "-i", esp.path, "::EFI", "::EFI/BOOT"],
                          ["mcopy", "-m", "-i", esp.path, bootx64.path, "::EFI/BOOT/BOOTX64.EFI"]] {
            let result = try runTool(arguments)
            try #require(result.status == 0, "\(result.output)")
        }
        let configFAT = try runTool(["mkfs.vfat", "-C", "--invariant", "-i", "5A5A0002", "-n", configLabel,
                                     config.path, "1024"])
        try #require(configFAT.status == 0, "\(configFAT.output)")
    }

    var systemArea: SystemArea {
        .grubHybrid(mbrTemplatePath: SystemArea.debianGRUBHybridMBR,
                    appendedPartitions: [.efiSystem(number: 2, hostPath: esp.path),
                                         .fatData(number: 3, hostPath: config.path)])
    }

    var elTorito: ElToritoCatalog {
        ElToritoCatalog(catalogPath: "/boot.catalog", entries: [.grubBIOS(biosImagePath), .efi(appendedPartition: 2)])
    }

    var options: ISOWriteOptions {
        var options = ISOWriteOptions.reproducible(epoch: epoch)
        options.elTorito = elTorito
        options.systemArea = systemArea
        return options
    }

    func makeImage() throws -> ISOImage {
        let image = try ISOImage(volumeID: "EMTS_HYBRID", timestamp: epoch)
        try image.addFile(biosImagePath, hostPath: eltorito.path, attributes: NodeAttributes(permissions: 0o644))
        try image.addFile("/boot/grub/grub.cfg", contents: Array("set timeout=1\n".utf8))
        try image.addFile("/images/payload.bin", contents: patternBytes(count: 100_000, seed: 3))
        return image
    }
}

/// Lines of `text` that contain `fragment`.
private func lines(_ text: String, containing fragment: String) -> [String] {
    text.split(separator: "\n").map(String.init).filter { $0.contains(fragment) }
}

/// The whitespace-separated words of a report line.
private func words(_ line: String) -> [String] {
    line.split(whereSeparator: \.isWhitespace).map(String.init)
}

extension Array {
    /// The elements in `range`, or an empty array when the range is not all inside (no crash on an
    /// unexpected report format: the expectation fails instead).
    fileprivate subscript(within range: ClosedRange<Int>) -> [Element] {
        range.lowerBound >= 0 && range.upperBound < count ? Array(self[range]) : []
    }

    fileprivate subscript(within index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}

@Suite struct HybridBootTests {
    @Test func xorrisoSgdiskFdiskAndBlkidSeeTheHybridLayout() throws {
        try withScratchDirectory { directory in
            let inputs = try HybridInputs(in: directory)
            let output = directory.appendingPathComponent("hybrid.iso")
            let report = try inputs.makeImage().write(to: output.path, options: inputs.options)
            #expect(report.bytes % 2048 == 0)

            let xorriso = try runTool(["xorriso", "-indev", output.path,
                                       "-report_el_torito", "plain", "-report_system_area", "plain"])
            try #require(xorriso.status == 0, "\(xorriso.output)")
            let text = xorriso.output
            // El Torito: BIOS no-emulation GRUB image with both patches, UEFI entry on appended partition 2.
            let images = lines(text, containing: "El Torito boot img :")
            try #require(images.count == 2, "\(text)")
            let bios = words(images[0])
            let efi = words(images[1])
            #expect(bios[within: 5...10] == ["1", "BIOS", "y", "none", "0x0000", "0x00"], "\(images[0])")
            #expect(bios[within: 11] == "4", "load size 4")
            #expect(efi[within: 5...8] == ["2", "UEFI", "y", "none"], "\(images[1])")
            #expect(efi[within: 11] == "4096", "the whole 2 MiB ESP is loaded")
            #expect(lines(text, containing: "El Torito img path :   1  \(biosImagePath)").count == 1, "\(text)")
            #expect(lines(text, containing: "El Torito img opts :   1  boot-info-table grub2-boot-info").count == 1)
            #expect(lines(text, containing: "El Torito cat path : /boot.catalog").count == 1)
            #expect(lines(text, containing: "El Torito img path :   2").isEmpty, "the ESP is outside the tree")
            // System area: GRUB hybrid MBR, offset 16, protective 0xEE entry plus a forced active dummy entry.
            #expect(lines(text, containing: "System area summary: MBR protective-msdos-label grub2-mbr cyl-align-off GPT").count == 1, "\(text)")
            #expect(lines(text, containing: "System area options: 0x00004201").count == 1)
            #expect(lines(text, containing: "Partition offset   : 16").count == 1)
            let mbr = lines(text, containing: "MBR partition      :").map(words)
            #expect(mbr.contains { $0[within: 3...5] == ["1", "0x00", "0xee"] }, "protective GPT entry: \(mbr)")
            #expect(mbr.contains { $0[within: 3...7] == ["2", "0x80", "0x00", "0", "1"] }, "forced active entry: \(mbr)")
            // GPT: the ISO 9660 partition at the offset, then the appended ESP and config partitions.
            let starts = lines(text, containing: "GPT start and size :").map { words($0)[within: 5...7] }
            #expect(starts.count == 3)
            #expect(starts.first == ["1", "64", "464"], "ISO 9660 partition from 16 * 2048 bytes: \(starts)")
            let types = lines(text, containing: "GPT type GUID      :").map { words($0)[within: 4...5] }
            #expect(types == [["1", "a2a0d0ebe5b9334487c068b6b72699c7"], ["2", "28732ac11ff8d211ba4b00a0c93ec93b"],
                              ["3", "a2a0d0ebe5b9334487c068b6b72699c7"]], "basic data, EFI System, basic data")
            #expect(lines(text, containing: "GPT partname local :   2  Appended2").count == 1)
            #expect(lines(text, containing: "GPT partname local :   3  Appended3").count == 1)
            #expect((lines(text, containing: "GPT start and size :   2").first.map(words) ?? [])[within: 6...7] ==
                    ["\((UInt64(words(images[1])[within: 12] ?? "") ?? 0) * 4)", "4096"], "El Torito's UEFI entry is partition 2")
            #expect(lines(text, containing: "GPT disk GUID      :      3230323331313144b230303231333230").count == 1,
                    "disk GUID from the volume uuid 2023111422132000")

            // The same through libisofs's own reader.
            let read = try ISOImage(reading: output.path)
            #expect(read.features?.elTorito == true)
            #expect(try read.elToritoEntries() == [
                ElToritoBootRecord(platform: .bios, emulation: .none, bootable: true, loadSectors: 4, loadSegment: 0,
                                   imagePath: biosImagePath, patches: [.bootInfoTable, .grub2BootInfo]),
                ElToritoBootRecord(platform: .efi, emulation: .none, bootable: true, loadSectors: 4096, loadSegment: 0,
                                   imagePath: nil, patches: []),
            ])
            #expect(read.elToritoReport().contains { $0.hasPrefix("El Torito boot img :   2  UEFI") })
            #expect(read.systemAreaReport().contains("Partition offset   : 16"), "\(read.systemAreaReport())")
            #expect(try read.entry(at: "/boot.catalog")?.kind == .bootCatalog)

            let sgdisk = try runTool(["sgdisk", "-v", output.path])
            #expect(sgdisk.status == 0)
            #expect(sgdisk.output.contains("No problems found."), "\(sgdisk.output)")

            let gpt = try runTool(["fdisk", "-l", output.path])
            #expect(gpt.output.contains("Disklabel type: gpt"), "\(gpt.output)")
            #expect(lines(gpt.output, containing: "\(output.path)2").first?.hasSuffix("EFI System") == true, "\(gpt.output)")
            let dos = try runTool(["fdisk", "-l", "-t", "dos", output.path])
            let active = lines(dos.output, containing: "\(output.path)2").map(words).first
            #expect(active?[within: 1] == "*", "fdisk sees the bootable MBR entry: \(dos.output)")
            #expect(lines(dos.output, containing: "\(output.path)1").first?.hasSuffix("ee GPT") == true)

            let start = try #require(starts.last.flatMap { $0[within: 1].flatMap { UInt64($0) } })
            let blkid = try runTool(["blkid", "-p", "-O", "\(start * 512)", "-o", "export", output.path])
            #expect(blkid.output.contains("TYPE=vfat"), "\(blkid.output)")
            #expect(blkid.output.contains("LABEL=\(configLabel)"), "\(blkid.output)")
            let whole = try runTool(["blkid", "-p", "-o", "export", output.path])
            #expect(whole.output.contains("PTTYPE=gpt") && whole.output.contains("TYPE=iso9660"), "\(whole.output)")

            // The ESP bytes are appended unchanged at partition 2.
            let iso = try Data(contentsOf: output)
            let esp = try Data(contentsOf: inputs.esp)
            let espStart = try #require(starts[within: 1]?[within: 1].flatMap { Int($0) }) * 512
            #expect(iso[espStart..<espStart + esp.count] == esp)
        }
    }

    @Test func sameInputsGiveSameBytes() throws {
        try withScratchDirectory { directory in
            let inputs = try HybridInputs(in: directory)
            let first = directory.appendingPathComponent("first.iso")
            let second = directory.appendingPathComponent("second.iso")
            try inputs.makeImage().write(to: first.path, options: inputs.options)
            Thread.sleep(forTimeInterval: 1.1)
            try inputs.makeImage().write(to: second.path, options: inputs.options)
            #expect(try Data(contentsOf: first) == Data(contentsOf: second))

            // The catalog is applied per write: the same image writes again, the same bytes, and
            // without boot options writes no catalog.
            let image = try inputs.makeImage()
            try image.write(to: second.path, options: inputs.options)
            #expect(try Data(contentsOf: first) == Data(contentsOf: second))
            try image.write(to: second.path, options: inputs.options)
            #expect(try Data(contentsOf: first) == Data(contentsOf: second))
            #expect(try image.entry(at: "/boot.catalog") == nil)
            try image.write(to: second.path, options: .reproducible(epoch: epoch))
            #expect(try ISOImage(reading: second.path).features?.elTorito == false)

            // A fixed disk GUID (from a seed) lands in the GPT; partition GUIDs follow from it.
            var options = inputs.options
            let guid = GUID(seed: "build 42")
            options.systemArea?.gptDiskGUID = .fixed(guid)
            options.elTorito?.hidden = true
            try inputs.makeImage().write(to: second.path, options: options)
            let fdisk = try runTool(["fdisk", "-l", second.path])
            #expect(fdisk.output.contains("Disk identifier: \(guid)"), "\(fdisk.output)")
            #expect(try ISOImage(reading: second.path).entry(at: "/boot.catalog") == nil, "hidden catalog")
        }
    }

    @Test func missingInputsAreNamedAndLeaveNoOutput() throws {
        try withScratchDirectory { directory in
            let inputs = try HybridInputs(in: directory)
            let before = try listing(directory)
            let output = directory.appendingPathComponent("out.iso")

            var options = inputs.options
            options.elTorito?.entries[0] = .grubBIOS("/boot/grub/i386-pc/missing.img")
            let missingBoot = #expect(throws: ISOError.self) { try inputs.makeImage().write(to: output.path, options: options) }
            #expect(missingBoot?.operation == .prepareWrite)
            #expect(missingBoot?.path == "/boot/grub/i386-pc/missing.img")

            options = inputs.options
            let absent = directory.appendingPathComponent("absent-esp.img").path
            options.systemArea?.appendedPartitions[0].hostPath = absent
            let missingPartition = #expect(throws: ISOError.self) {
                try inputs.makeImage().write(to: output.path, options: options)
            }
            #expect(missingPartition?.path == absent)
            #expect(missingPartition?.errno == ENOENT)
            #expect(missingPartition?.description.contains(absent) == true)

            options = inputs.options
            options.elTorito?.entries[1] = .efi(appendedPartition: 4)
            let unknownPartition = #expect(throws: ISOError.self) {
                try inputs.makeImage().write(to: output.path, options: options)
            }
            #expect(unknownPartition?.path == "appended partition 4")

            options = inputs.options
            options.systemArea?.mbrTemplatePath = directory.appendingPathComponent("no-mbr.img").path
            let missingTemplate = #expect(throws: ISOError.self) {
                try inputs.makeImage().write(to: output.path, options: options)
            }
            #expect(missingTemplate?.path == directory.appendingPathComponent("no-mbr.img").path)

            options = inputs.options
            options.volumeTimestamp = nil
            let noUUID = #expect(throws: ISOError.self) { try inputs.makeImage().write(to: output.path, options: options) }
            #expect(noUUID?.message.contains("volumeTimestamp") == true)

            options = inputs.options
            options.systemArea?.partitionOffset = 8
            #expect(throws: ISOError.self) { try inputs.makeImage().write(to: output.path, options: options) }

            // A failed attempt leaves the image usable.
            let image = try inputs.makeImage()
            options = inputs.options
            options.elTorito?.entries[1] = .efi(appendedPartition: 4)
            #expect(throws: ISOError.self) { try image.write(to: output.path, options: options) }
            #expect(try image.entry(at: "/boot.catalog") == nil)
            try #require(try listing(directory) == before, "no output, no temporary file")
            try image.write(to: output.path, options: inputs.options)
            #expect(try listing(directory) == (before + ["out.iso"]).sorted())
        }
    }

    @Test func guidsParsePrintAndDerive() {
        #expect(GUID.efiSystem.description == "C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
        #expect(GUID.efiSystem.diskBytes.map { String(format: "%02x", $0) }.joined() == "28732ac11ff8d211ba4b00a0c93ec93b")
        #expect(GUID("c12a7328f81f11d2ba4b00a0c93ec93b") == .efiSystem)
        #expect(GUID("not a guid") == nil)
        #expect(GUID(seed: "a") == GUID(seed: "a"))
        #expect(GUID(seed: "a") != GUID(seed: "b"))
        let seeded = GUID(seed: "emt-s").bytes
        #expect(seeded[6] >> 4 == 4 && seeded[8] >> 6 == 2, "RFC 4122 version 4, variant 1")
        #expect(SystemAreaOptions.grubHybrid.rawValue == 0x4201 | 0x8000)
    }
}
