import ArchiveKit
import BootTest
import Foundation
import HybridISO
import InstallMedium
import MicroOS
import StreamKit
import Testing

/// `inspect`, `verify`, `kargs` and `config` on the ISOs the boot matrix built from the test bed.
@Suite struct MediumToolsTests {
    /// A private copy of the ISO for `build` (and its manifest), for tests that change it.
    static func copy(_ build: ISOBootMatrixTests.Build, as name: String) async throws -> URL {
        let (iso, _) = try await ISOBootMatrixTests.iso(build)
        let directory = TestBed.logDirectory.appendingPathComponent("medium-tools")
        return try await offloaded {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let target = directory.appendingPathComponent(name)
            for suffix in ["", ".manifest.json"] {
                try? FileManager.default.removeItem(atPath: target.path + suffix)
                try FileManager.default.copyItem(atPath: iso.path + suffix, toPath: target.path + suffix)
            }
            return target
        }
    }

    @Test("inspect reports the medium from its own bytes")
    func inspectReportsTheMedium() async throws {
        let (iso, manifest) = try await ISOBootMatrixTests.iso(.none)
        let report = try await offloaded { try MediumReport(try MediumImage(path: iso.path)) }
        #expect(report.volumeID == "EMTS_INSTALL")
        #expect(report.buildID == manifest.iso.buildID)
        #expect(report.secureBoot == "none")
        #expect(report.elTorito.map(\.platform) == ["bios", "uefi"])
        #expect(report.elTorito.first?.bootInfoTable == true && report.elTorito.first?.grub2BootInfo == true)
        #expect(report.mbr.contains { $0.active } && report.mbr.contains { $0.type == "ee" })
        #expect(report.gpt.first { $0.number == 2 }?.type == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
        #expect(report.kernelArguments.current == (try KernelArguments()).commandLine && !report.kernelArguments.modified)
        #expect(report.kernelArguments.areas.first?.offset == manifest.iso.kargs.files.first?.offset)
        for agent in EditRequest.agentUnits { #expect(report.microOS.units[agent] == .masked, "\(agent)") }
        #expect(report.espFiles == ["EFI/BOOT/BOOTX64.EFI"])
        #expect(report.manifest == manifest)
        // The JSON a CI job reads carries the same facts under stable keys.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        for key in ["volumeID", "buildID", "secureBoot", "elTorito", "mbr", "gpt", "kernelArguments", "microOS",
                    "payloads", "espFiles", "configPartitionFiles", "manifest"] {
            #expect(json?[key] != nil, "inspect --json has \(key)")
        }
    }

    @Test("inspect tells the signed boot path")
    func inspectTellsSignMode() async throws {
        let (iso, _) = try await ISOBootMatrixTests.iso(.sign)
        let report = try await offloaded { try MediumReport(try MediumImage(path: iso.path)) }
        #expect(report.secureBoot == "sign")
        #expect(report.kernelArguments.signedImage == LoaderMenu.imagePath)
        #expect(report.espFiles.contains("loader/entries/emts-shell.conf"))
    }

    @Test("kargs modify, then reset, gives back the identical ISO")
    func kargsRoundTrip() async throws {
        let iso = try await Self.copy(.none, as: "kargs.iso")
        let (before, after, line, reset) = try await offloaded {
            let before = try FileDigest.sha256(of: iso.path).sha256
            let editor = KargsEditor(medium: try MediumImage(path: iso.path))
            let line = try editor.modify([.append("quiet"), .replace("console=ttyS0,115200n8=ttyS0,9600"),
                                          .delete("console=tty0")])
            let after = try FileDigest.sha256(of: iso.path).sha256
            let reset = try KargsEditor(medium: try MediumImage(path: iso.path)).reset()
            return (before, after, line, reset)
        }
        #expect(line == "root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd console=ttyS0,9600 quiet")
        #expect(before != after)
        #expect(reset == (try KernelArguments()).commandLine)
        #expect(try await offloaded { try FileDigest.sha256(of: iso.path).sha256 } == before, "byte-identical after reset")
    }

    @Test("kargs refuses a line without the µOS's own arguments and leaves the ISO as it was")
    func kargsRefusesBreakingEdits() async throws {
        let iso = try await Self.copy(.none, as: "kargs-refused.iso")
        let before = try await offloaded { try FileDigest.sha256(of: iso.path).sha256 }
        for change in [KargsEditor.Change.delete("root"), .append("root=/dev/sda2"), .replace("rootflags=mode=0755=size=1G"),
                       .delete("nosuch"), .append(String(repeating: "x", count: 2000))] {
            let error = await #expect(throws: MediumError.self) {
                try await offloaded { try KargsEditor(medium: try MediumImage(path: iso.path)).modify([change]) }
            }
            #expect("\(error.map { "\($0)" } ?? "")".hasPrefix(iso.path), "\(change)")
        }
        #expect(try await offloaded { try FileDigest.sha256(of: iso.path).sha256 } == before)
    }

    @Test("A medium with edited kargs boots with the new line")
    func editedKargsBoot() async throws {
        let bed = try await TestBed.sharedAsync()
        let iso = try await Self.copy(.none, as: "kargs-boot.iso")
        let (_, manifest) = try await ISOBootMatrixTests.iso(.none)
        let line = try await offloaded {
            try KargsEditor(medium: try MediumImage(path: iso.path)).modify([.append("emts.test=edited-in-place")])
        }
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let log = TestBed.logDirectory.appendingPathComponent("kargs-edited-uefi-usb.log")
        let result = try await BootRunner().boot(
            MachineSpec(firmware: .uefi, source: .medium(image: iso, media: .usb, writable: false)),
            expecting: BootExpectation(markers: ["EMTS-TESTBED-READY multi-user", "EMTS-CMDLINE "]),
            accelerator: accel.accelerator, log: log)
        #expect(result.passed, "\(result.summary)")
        let console = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        let cmdline = console.split(whereSeparator: \.isNewline).first { $0.hasPrefix("EMTS-CMDLINE ") }
            .map { String($0.dropFirst("EMTS-CMDLINE ".count)).trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(cmdline == "BOOT_IMAGE=/boot/vmlinuz \(line) emts.medium=\(manifest.iso.buildID)")
    }

    @Test("verify names the kernel-arguments check on a tampered ISO")
    func verifyCatchesTamperedKargs() async throws {
        let iso = try await Self.copy(.none, as: "tampered-kargs.iso")
        let checks = try await offloaded {
            let (map, _) = try MediumImage(path: iso.path).kargsMap()
            let offset = try #require(map.files.first?.offset)
            // What an editor that ignores the rules would do: root=tmpfs becomes root=/dev/sda.
            let area = try KargsArea(size: map.size).encode(commandLine: map.defaultCommandLine)
            let text = String(decoding: area, as: UTF8.self).replacingOccurrences(of: "root=tmpfs ", with: "root=sda1 ")
            let file = try FileSink(updating: iso.path)
            try file.patch(Array(text.utf8), at: Int64(offset))
            try file.close()
            return MediumVerification(try MediumImage(path: iso.path)).checks
        }
        let failed = checks.filter { !$0.passed }.map(\.name)
        #expect(failed.contains("kernel-arguments") && failed.contains("manifest"), "\(failed)")
        #expect(checks.first { $0.name == "kernel-arguments" }?.detail.contains("root=sda1 contradicts root=tmpfs") == true)
        for name in ["el-torito", "partition-tables", "uefi-boot-path", "agents-disabled", "payload-sha256"] {
            #expect(checks.first { $0.name == name }?.passed == true, "\(name)")
        }
    }

    @Test("verify names the payload check when the OS image was altered")
    func verifyCatchesAlteredPayload() async throws {
        let bed = try await TestBed.sharedAsync()
        let directory = TestBed.logDirectory.appendingPathComponent("medium-tools")
        let checks = try await offloaded {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let image = directory.appendingPathComponent("emt-os.raw.gz").path
            // A stand-in OS image: the kernel's bytes, gzip-compressed.
            let sink = try FileSink(creating: image + ".tmp")
            let gzip = try CompressingSink(into: sink, name: image, filter: .gzip)
            try Data(contentsOf: bed.kernel).withUnsafeBytes { try gzip.write($0) }
            try gzip.close()
            try sink.close()
            try? FileManager.default.removeItem(atPath: image)
            try FileManager.default.moveItem(atPath: image + ".tmp", toPath: image)
            let output = directory.appendingPathComponent("payload.iso").path
            _ = try InstallMediumBuild.build(
                MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.gzip).path, request: .standard),
                kernelArguments: try KernelArguments(), installerConfig: nil, osImage: image, epoch: 1_700_000_000,
                output: output, tool: "test")
            let medium = try MediumImage(path: output)
            let before = MediumVerification(medium).checks.first { $0.name == "payload-sha256" }
            let payload = try #require(try medium.payloads().first)
            let file = try FileSink(updating: output)
            try file.patch([0xFF, 0x00, 0xFF], at: Int64(try #require(payload.offset)) + 4096)
            try file.close()
            return (before, MediumVerification(try MediumImage(path: output)).checks)
        }
        #expect(checks.0?.passed == true)
        let after = checks.1.first { $0.name == "payload-sha256" }
        #expect(after?.passed == false && after?.detail.contains("/images/emt-os.raw.gz") == true, "\(String(describing: after))")
    }

    @Test("config set then show round-trips through the writable partition")
    func configRoundTrip() async throws {
        let iso = try await Self.copy(.none, as: "config.iso")
        let text = "target: auto\nafter_install: poweroff\n"
        let (empty, shown, files) = try await offloaded {
            let editor = ConfigPartitionEditor(medium: try MediumImage(path: iso.path))
            let empty = try editor.show()
            try editor.set(Array(text.utf8))
            let medium = try MediumImage(path: iso.path)
            return (empty, try ConfigPartitionEditor(medium: medium).show(), try medium.fatVolume(partition: 3).files())
        }
        #expect(empty == nil)
        #expect(shown == text)
        #expect(files == ["installer.yaml"])
    }
}
