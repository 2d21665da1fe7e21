import BootTest
import Foundation
import HybridISO
import InstallMedium
import MicroOS
import Synchronization
import Testing

/// The hybrid ISO built from the test bed, booted the ways the field boots it.
@Suite struct ISOBootMatrixTests {
    /// Which ISO a cell boots: one per `--secure-boot` mode, built once per test process.
    enum Build: String, Sendable, CaseIterable {
        case none, shim, sign
    }

    struct Cell: Sendable, CustomTestStringConvertible {
        var firmware: Firmware
        var media: MediaKind
        var build: Build = .none
        var testDescription: String { "\(firmware.rawValue) \(media.rawValue) (--secure-boot \(build.rawValue))" }
    }

    static let cells = [
        Cell(firmware: .bios, media: .cd), Cell(firmware: .bios, media: .usb),
        Cell(firmware: .uefi, media: .cd), Cell(firmware: .uefi, media: .usb), Cell(firmware: .uefi, media: .disk),
        // Secure Boot: Microsoft's keys start Debian's shim, which trusts the test bed's Debian-signed kernel;
        // the snakeoil keys trust what `sign` signed with the snakeoil key.
        Cell(firmware: .uefiSecure, media: .cd, build: .shim), Cell(firmware: .uefiSecure, media: .usb, build: .shim),
        Cell(firmware: .uefiSnakeoil, media: .cd, build: .sign), Cell(firmware: .uefiSnakeoil, media: .usb, build: .sign),
    ]

    private static let built = Mutex<[Build: Result<(URL, InstallMediumManifest), any Error>]>([:])

    /// The ISO for `build` (SOURCE_DATE_EPOCH fixed, the agents disabled, the check unit in) and its manifest.
    static func iso(_ build: Build = .none) async throws -> (url: URL, manifest: InstallMediumManifest) {
        let bed = try await TestBed.sharedAsync()
        return try await offloaded {
            try built.withLock { cache in
                if cache[build] == nil {
                    cache[build] = Result {
                        let directory = TestBed.logDirectory.appendingPathComponent("iso-\(build.rawValue)")
                        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                        let mode: SecureBootMode = switch build {
                        case .none: .none
                        case .shim: .shim(.debian)
                        case .sign: .sign(try SigningIdentity.ovmfSnakeoil(decryptingInto: directory.path))
                        }
                        let output = directory.appendingPathComponent("emt-s.iso")
                        let manifest = try InstallMediumBuild.build(
                            MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.gzip).path,
                                          request: EditedTestBedBoots.request),
                            kernelArguments: try KernelArguments(), installerConfig: nil, secureBoot: mode,
                            epoch: 1_700_000_000, output: output.path, tool: "test")
                        return (output, manifest)
                    }
                }
                return try cache[build]!.get()
            }
        }
    }

    @Test("The ISO boots to the µOS with its command line and no agents", arguments: cells)
    func boots(cell: Cell) async throws {
        let bed = try await TestBed.sharedAsync()
        let (iso, manifest) = try await Self.iso(cell.build)
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let spec = MachineSpec(firmware: cell.firmware, source: .medium(image: iso, media: cell.media, writable: false))
        // What `emts-iso boot-test` checks on any medium, plus the test bed's own reports.
        let generic = MediumBootCheck(
            grubCommandLine: "BOOT_IMAGE=/boot/vmlinuz \(manifest.iso.kargs.defaultCommandLine) emts.medium=\(manifest.iso.buildID)",
            signedCommandLine: cell.build == .sign ? manifest.iso.commandLine : nil,
            forbiddenUnits: EditRequest.agentUnits
        ).expectation(for: BootCell(firmware: cell.firmware, media: cell.media))
        let markers = generic.markers + ["EMTS-INIT rootfs unpacked", "EMTS-TESTBED-READY multi-user", "EMTS-CMDLINE "]
            + TestBed.agents.map { "EMTS-CHECK \($0).service masked" }
        let failures = generic.failures + TestBed.agents.map { "EMTS-AGENT-STARTED \($0)" }
        let log = TestBed.logDirectory.appendingPathComponent(
            "iso-\(cell.build.rawValue)-\(cell.firmware.rawValue)-\(cell.media.rawValue).log")
        let result = try await BootRunner().boot(
            spec, expecting: BootExpectation(markers: markers, failures: failures), accelerator: accel.accelerator, log: log)
        print("ISO \(cell.testDescription): \(result.summary)")
        #expect(result.passed, "\(result.summary)")
        let console = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        let cmdline = console.split(whereSeparator: \.isNewline).first { $0.hasPrefix("EMTS-CMDLINE ") }
            .map { String($0.dropFirst("EMTS-CMDLINE ".count)).trimmingCharacters(in: .whitespacesAndNewlines) }
        // GRUB's `linux` puts BOOT_IMAGE= first; the signed unified kernel image passes its line as it is.
        let expected = "\((try KernelArguments()).commandLine) emts.medium=\(manifest.iso.buildID)"
        #expect(cmdline == (cell.build == .sign && cell.firmware.isUEFI ? expected : "BOOT_IMAGE=/boot/vmlinuz " + expected),
                "the kernel got exactly the medium's command line")
        #expect(manifest.iso.commandLine == (cell.build == .sign ? expected : "BOOT_IMAGE=/boot/vmlinuz " + expected))
        if cell.firmware.enforcesSecureBoot {
            #expect(console.contains("Secure boot enabled") || console.contains("secureboot: Secure boot enabled"),
                    "the kernel saw Secure Boot on")
        }
    }

    /// Negative controls: firmware enforcing Secure Boot refuses a boot path it does not trust.
    @Test("Secure Boot refuses an untrusted boot path", arguments: [
        Cell(firmware: .uefiSecure, media: .cd, build: .none), Cell(firmware: .uefiSecure, media: .usb, build: .sign),
    ])
    func refused(cell: Cell) async throws {
        let bed = try await TestBed.sharedAsync()
        let (iso, _) = try await Self.iso(cell.build)
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let spec = MachineSpec(firmware: cell.firmware, source: .medium(image: iso, media: cell.media, writable: false))
        let log = TestBed.logDirectory.appendingPathComponent(
            "refused-\(cell.build.rawValue)-\(cell.firmware.rawValue)-\(cell.media.rawValue).log")
        let expectation = BootExpectation(markers: ["Access Denied"], failures: ["Linux version", "EMTS-INIT", "GRUB"],
                                          overallTimeout: .seconds(240))
        let result = try await BootRunner().boot(spec, expecting: expectation, accelerator: accel.accelerator, log: log)
        print("refused \(cell.testDescription): \(result.summary)")
        #expect(result.passed, "the firmware refused the unsigned loader: \(result.summary)")
    }
}

/// The built ISO's layout as independent tools see it, and its reproducibility.
@Suite struct ISOLayoutTests {
    @Test("xorriso, sgdisk and fdisk agree on the hybrid layout")
    func layoutAsToolsSeeIt() async throws {
        let iso = try await ISOBootMatrixTests.iso().url
        let (report, sgdisk, fdisk) = try await offloaded {
            (try shell("xorriso -indev '\(iso.path)' -report_el_torito plain -report_system_area plain 2>&1"),
             try shell("sgdisk -v '\(iso.path)' 2>&1"),
             try shell("fdisk -l -t dos '\(iso.path)' 2>&1"))
        }
        #expect(report.contains("El Torito boot img :   1  BIOS  y   none"))
        #expect(report.contains("El Torito boot img :   2  UEFI  y   none"))
        #expect(report.contains("El Torito img path :   1  /boot/grub/i386-pc/eltorito.img"))
        #expect(report.contains("El Torito img opts :   1  boot-info-table grub2-boot-info"))
        #expect(report.contains("Partition offset   : 16"))
        #expect(report.contains("GPT type GUID      :   2  28732ac11ff8d211ba4b00a0c93ec93b"), "ESP type on partition 2")
        #expect(report.contains("MBR partition      :   2   0x80"), "the forced active MBR entry")
        #expect(sgdisk.contains("No problems found"))
        #expect(fdisk.contains("*"), "an active MBR partition for strict BIOSes")
    }

    @Test("Two builds with the same SOURCE_DATE_EPOCH are byte-identical")
    func reproducible() async throws {
        let bed = try await TestBed.sharedAsync()
        let dir = TestBed.logDirectory.appendingPathComponent("repro")
        let digests = try await offloaded {
            try (0 ..< 2).map { run in
                let output = dir.appendingPathComponent("run\(run)/emt-s.iso").path
                return try InstallMediumBuild.build(
                    MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.zstd).path, request: .standard),
                    kernelArguments: try KernelArguments(extras: ["quiet"]), installerConfig: nil, epoch: 1_650_000_000,
                    output: output, tool: "test").output.sha256
            }
        }
        try? FileManager.default.removeItem(at: dir)
        #expect(digests[0] == digests[1])
    }
}
