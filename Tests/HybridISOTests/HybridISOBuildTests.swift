import Foundation
@testable import HybridISO
import ISOKit
import Testing

/// The ISO assembly on stand-in boot files (no boot here: EndToEndTests boots the real thing).
@Suite struct HybridISOBuildTests {
    func inputs(in dir: String, osImage: String?, secureBoot: SecureBootMode = .none) throws -> HybridISOInputs {
        try Data("kernel".utf8).write(to: URL(fileURLWithPath: dir + "/vmlinuz"))
        try Data("initramfs".utf8).write(to: URL(fileURLWithPath: dir + "/initramfs.img"))
        return HybridISOInputs(kernel: dir + "/vmlinuz", initramfs: dir + "/initramfs.img",
                               arguments: try KernelArguments(), osImage: osImage, buildID: "0123456789ab",
                               epoch: 1_700_000_000, secureBoot: secureBoot)
    }

    /// The ESP (GPT partition 2) of the ISO at `iso`, as an mtools image spec.
    func esp(of report: HybridISOReport, iso: String) throws -> String {
        let partition = try #require(report.partitions.first { $0.table == "gpt" && $0.number == 2 })
        return "\(iso)@@\(partition.startBytes)"
    }

    @Test func recordsWhereTheKernelArgumentsSit() throws {
        try withScratchDirectory { dir in
            let iso = dir + "/out.iso"
            let report = try HybridISOBuild.write(try inputs(in: dir, osImage: nil), to: iso)
            let image = try ISOImage(reading: iso)
            let onMedium = try JSONDecoder().decode(KargsMap.self, from: Data(try image.contents(of: KargsMap.path)))
            #expect(onMedium == report.kargs)
            #expect(onMedium.defaultCommandLine == (try KernelArguments()).commandLine)
            let offset = try #require(onMedium.files.first { $0.path == KargsArea.path }?.offset)
            let whole = try bytes(iso)
            #expect(Array(whole[Int(offset) ..< Int(offset) + KargsArea.defaultSize])
                    == (try image.contents(of: KargsArea.path)), "the offset points at the kargs file's bytes")
            #expect(try KargsArea().decode(Array(whole[Int(offset) ..< Int(offset) + KargsArea.defaultSize]))
                    == onMedium.defaultCommandLine)
            #expect(report.commandLine == "BOOT_IMAGE=/boot/vmlinuz \(onMedium.defaultCommandLine) emts.medium=0123456789ab")
            #expect(report.secureBoot == "none" && onMedium.signedImage == nil)
        }
    }

    @Test func recordsThePartitionTables() throws {
        try withScratchDirectory { dir in
            let report = try HybridISOBuild.write(try inputs(in: dir, osImage: nil), to: dir + "/out.iso")
            let gpt = report.partitions.filter { $0.table == "gpt" }
            #expect(gpt.first { $0.number == 2 }?.type == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
            #expect(gpt.first { $0.number == 2 }?.sizeBytes == report.espBytes)
            #expect(gpt.first { $0.number == 3 }?.sizeBytes == report.configPartitionBytes)
            #expect(gpt.last.map { $0.startBytes + $0.sizeBytes } ?? 0 <= report.bytes)
        }
    }

    @Test func shimModeCarriesTheSignedLoaders() throws {
        try withScratchDirectory { dir in
            let iso = dir + "/out.iso"
            let report = try HybridISOBuild.write(try inputs(in: dir, osImage: nil, secureBoot: .shim(.debian)), to: iso)
            let listing = String(decoding: try mtools(.mdir, ["-b", "-i", try esp(of: report, iso: iso), "::/EFI/BOOT"])
                .standardOutput, as: UTF8.self)
            #expect(listing.split(separator: "\n").map { $0.split(separator: "/").last.map(String.init) ?? "" }.sorted()
                    == ["BOOTX64.EFI", "grubx64.efi", "mmx64.efi"])
            try mtools(.mcopy, ["-n", "-i", try esp(of: report, iso: iso), "::/EFI/BOOT/BOOTX64.EFI", dir + "/boot.efi"])
            #expect(try bytes(dir + "/boot.efi") == (try bytes(ShimLoaders.debian.shim)))
            #expect(report.warnings.contains { $0.contains("carries no signature") }, "the stand-in kernel is unsigned")
            #expect(report.secureBoot == "shim")
        }
    }

    @Test func signModeSignsSystemdBootAndTheUnifiedImage() throws {
        try withScratchDirectory { dir in
            let identity = try SigningIdentity.ovmfSnakeoil(decryptingInto: dir)
            let iso = dir + "/out.iso"
            let report = try HybridISOBuild.write(try inputs(in: dir, osImage: nil, secureBoot: .sign(identity)), to: iso)
            let espSpec = try esp(of: report, iso: iso)
            for (inside, copy) in [("::/EFI/BOOT/BOOTX64.EFI", "/boot.efi"), ("::/EFI/emts/emt-s.efi", "/uki.efi")] {
                try mtools(.mcopy, ["-n", "-i", espSpec, inside, dir + copy])
                try ExternalTool.sbverify.run(["--cert", identity.certificate, dir + copy], step: "test")
            }
            let expected = (try KernelArguments()).commandLine + " emts.medium=0123456789ab"
            #expect(report.commandLine == expected)
            try ExternalTool.objcopy.run(["-O", "binary", "--only-section=.cmdline", dir + "/uki.efi", dir + "/cmdline"],
                                         step: "test")
            #expect(String(decoding: try bytes(dir + "/cmdline"), as: UTF8.self) == expected)
            try ExternalTool.objcopy.run(["-O", "binary", "--only-section=.initrd", dir + "/uki.efi", dir + "/initrd"],
                                         step: "test")
            #expect(try bytes(dir + "/initrd") == Array("initramfs".utf8))
            let entries = String(decoding: try mtools(.mdir, ["-b", "-i", espSpec, "::/loader/entries"]).standardOutput,
                                 as: UTF8.self)
            #expect(entries.contains("emts-install.conf") && entries.contains("emts-shell.conf"))
            #expect(report.kargs.signedImage == LoaderMenu.imagePath)
        }
    }

    @Test func signModeNamesAMissingKeyAndWritesNothing() throws {
        try withScratchDirectory { dir in
            let identity = SigningIdentity(key: dir + "/absent.key", certificate: dir + "/absent.pem")
            let error = #expect(throws: HybridISOError.self) {
                try HybridISOBuild.write(try inputs(in: dir, osImage: nil, secureBoot: .sign(identity)), to: dir + "/out.iso")
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains(dir + "/absent.key"))
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("out") }
            #expect(left.isEmpty, "nothing written: \(left)")
        }
    }

    @Test func carriesTheOSImageWithItsDigest() throws {
        try withScratchDirectory { dir in
            let payload = [0x1F, 0x8B, 0x08, 0x00] + (0 ..< 100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let osImage = dir + "/emt-s.raw.gz"
            try Data(payload).write(to: URL(fileURLWithPath: osImage))
            let report = try HybridISOBuild.write(try inputs(in: dir, osImage: osImage), to: dir + "/out.iso")
            let expected = try OSImagePayload.inspect(osImage).sha256
            #expect(report.osImage == OSImagePayload(path: "/images/emt-s.raw.gz", bytes: UInt64(payload.count),
                                                     sha256: expected))
            let iso = try ISOImage(reading: dir + "/out.iso")
            #expect(try iso.contents(of: "/images/emt-s.raw.gz") == payload)
            #expect(String(decoding: try iso.contents(of: "/images/emt-s.raw.gz.sha256"), as: UTF8.self)
                    == "\(expected)  emt-s.raw.gz\n")
            #expect(try iso.contents(of: KargsArea.path).count == KargsArea.defaultSize)
            #expect(try iso.contents(of: "/.disk/emts-iso-0123456789ab").isEmpty)
        }
    }

    @Test(arguments: [("emt-s.img", [UInt8](arrayLiteral: 0x1F, 0x8B, 0, 0)), ("emt-s.raw.zst", [0x1F, 0x8B, 0, 0]),
                      ("emt-s.raw.gz", [])])
    func refusesWhatIsNotACompressedRawImage(name: String, content: [UInt8]) throws {
        try withScratchDirectory { dir in
            let osImage = dir + "/" + name
            try Data(content).write(to: URL(fileURLWithPath: osImage))
            let error = #expect(throws: HybridISOError.self) {
                try HybridISOBuild.write(try inputs(in: dir, osImage: osImage), to: dir + "/out.iso")
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains(osImage))
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("out") || $0.hasPrefix(".out") }
            #expect(left.isEmpty, "nothing written: \(left)")
        }
    }
}
