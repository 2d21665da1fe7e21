import DiskKit
import Foundation
@testable import HybridISO
import Testing

@Suite struct FATImageTests {
    /// A fake boot chain the size of the real one (shim ~950 KB, signed GRUB ~2.4 MB, MokManager ~850 KB):
    /// more than the 2.88 MB floppy size design.md warns about.
    func makeBootFiles(in directory: String) throws -> (boot: String, grub: String, mok: String) {
        func make(_ name: String, _ size: Int, _ seed: UInt8) throws -> String {
            let path = directory + "/" + name
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        return (try make("shim.efi", 950_000, 1), try make("grub.efi", 2_400_000, 2), try make("mm.efi", 850_000, 3))
    }

    func esp(_ files: (boot: String, grub: String, mok: String)) -> ESPImage {
        var esp = ESPImage(bootLoader: files.boot, secondStage: files.grub, mokManager: files.mok,
                           buildID: "build-1", epoch: 1_700_000_000)
        esp.extraFiles = [.init(path: "boot/grub/grub.cfg", source: .bytes(Array("configfile /boot/grub/x\n".utf8)))]
        return esp
    }

    @Test func espIsAVFATWithLabelAndFilesReadBackEqual() throws {
        try withScratchDirectory { directory in
            let files = try makeBootFiles(in: directory)
            let path = directory + "/esp.img"
            let size = try esp(files).build(to: path)
            #expect(size > 2_880_000)
            #expect(size % (1 << 20) == 0)
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64 == size)

            let report = try Blkid.probe(path)
            #expect(report.type == "vfat")
            #expect(report.label == "EMTS-EFI")
            #expect(report.uuid?.replacingOccurrences(of: "-", with: "") == esp(files).fatImage.volumeID)

            let listing = String(decoding: try mtools(.mdir, ["-i", path, "-/", "-b", "::/"]).standardOutput,
                                 as: UTF8.self)
            for name in ["::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/grubx64.efi", "::/EFI/BOOT/mmx64.efi",
                         "::/boot/grub/grub.cfg"] {
                #expect(listing.contains(name), "\(name) missing from \(listing)")
            }
            let readBack = try mtools(.mtype, ["-i", path, "::/EFI/BOOT/grubx64.efi"]).standardOutput
            #expect(readBack == (try Data(contentsOf: URL(fileURLWithPath: files.grub))))
        }
    }

    @Test func twoBuildsAreIdentical() throws {
        try withScratchDirectory { directory in
            let files = try makeBootFiles(in: directory)
            try esp(files).build(to: directory + "/a.img")
            sleep(2) // FAT times have 2 s resolution
            // A different staging mtime on the sources must not matter either.
            try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: files.grub)
            try esp(files).build(to: directory + "/b.img")
            #expect(try bytes(directory + "/a.img") == bytes(directory + "/b.img"))

            var later = esp(files)
            later.epoch += 86_400
            try later.build(to: directory + "/c.img")
            #expect(try bytes(directory + "/a.img") != bytes(directory + "/c.img"))
        }
    }

    static let layouts: [[(String, Int)]] = [
        [],
        [("a", 0)],
        [("EFI/BOOT/BOOTX64.EFI", 700_000)],
        (0..<400).map { ("many/file-with-a-rather-long-name-\($0).txt", 100) },
        (0..<30).map { ("d\($0 % 7)/e\($0 % 3)/f\($0)", 2047) },
        (0..<5).map { ("big\($0).bin", 1_048_577) },
        [("x/" + String(repeating: "y", count: 200), 4096)],
    ]

    @Test(arguments: layouts.indices)
    func computedSizeAlwaysFits(_ index: Int) throws {
        let layout = Self.layouts[index]
        try withScratchDirectory { directory in
            let files = layout.map { FATImage.File(path: $0.0, source: .bytes([UInt8](repeating: 0xA5, count: $0.1))) }
            let plan = FATImage(label: "FIT", volumeIDSeed: "fit", files: files, epoch: 1_700_000_000)
            let size = try plan.build(to: directory + "/fit.img")
            #expect(size >= 1 << 20)
        }
    }

    @Test func mcopyDiskFullIsDetected() throws {
        try withScratchDirectory { directory in
            let files = try makeBootFiles(in: directory)
            let plan = esp(files).fatImage
            // Force the too-small image the size computation never produces.
            #expect { try plan.build(to: directory + "/small.img", size: 1 << 20) } throws: { error in
                guard case let HybridISOError.toolFailed(tool, _, _, output) = error else { return false }
                return tool == "mcopy" && output.localizedCaseInsensitiveContains("disk full")
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/small.img"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasPrefix(".") })
        }
    }

    @Test func fixedSizeTooSmallIsRefusedBeforeBuilding() throws {
        let plan = FATImage(label: "X", volumeIDSeed: "x",
                            files: [.init(path: "big", source: .bytes([UInt8](repeating: 1, count: 2 << 20)))],
                            epoch: 0, sizing: .fixed(1 << 20))
        #expect { try plan.requiredSize() } throws: { error in
            if case HybridISOError.contentsTooLarge = error { return true }
            return false
        }
    }

    @Test func invalidPlansAreRefused() throws {
        try withScratchDirectory { directory in
            let file = FATImage.File(path: "a", source: .bytes([1]))
            for plan in [
                FATImage(label: "lower", volumeIDSeed: "s", files: [file], epoch: 0),
                FATImage(label: "TWELVE-CHARS", volumeIDSeed: "s", files: [file], epoch: 0),
                FATImage(label: "OK", volumeIDSeed: "s", files: [file, .init(path: "A", source: .bytes([2]))], epoch: 0),
                FATImage(label: "OK", volumeIDSeed: "s", files: [.init(path: "a/../b", source: .bytes([]))], epoch: 0),
                FATImage(label: "OK", volumeIDSeed: "s", files: [.init(path: "a?b", source: .bytes([]))], epoch: 0),
                FATImage(label: "OK", volumeIDSeed: "s", files: [file, .init(path: "a/b", source: .bytes([]))], epoch: 0),
            ] {
                #expect(throws: HybridISOError.self) { try plan.build(to: directory + "/bad.img") }
            }
        }
    }

    @Test func configPartitionHasFixedLabelSizeAndInstallerConfig() throws {
        try withScratchDirectory { directory in
            let yaml = directory + "/installer.yaml"
            try Data("disk: /dev/nvme0n1\n".utf8).write(to: URL(fileURLWithPath: yaml))
            let path = directory + "/config.img"
            let size = try ConfigPartitionImage(installerConfig: yaml, buildID: "b", epoch: 1_700_000_000).build(to: path)
            #expect(size == 16 << 20)
            let report = try Blkid.probe(path)
            #expect(report.type == "vfat")
            #expect(report.label == "EMTS-CONFIG")
            let readBack = try mtools(.mtype, ["-i", path, "::/installer.yaml"]).standardOutput
            #expect(String(decoding: readBack, as: UTF8.self) == "disk: /dev/nvme0n1\n")

            try ConfigPartitionImage(installerConfig: nil, buildID: "b", epoch: 0).build(to: directory + "/empty.img")
            #expect(try Blkid.probe(directory + "/empty.img").label == "EMTS-CONFIG")
        }
    }
}
