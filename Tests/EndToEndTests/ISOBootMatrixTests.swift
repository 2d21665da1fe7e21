import BootTest
import Foundation
import HybridISO
import InstallMedium
import MicroOS
import Synchronization
import Testing

/// The hybrid ISO built from the test bed, booted the ways the field boots it.
@Suite struct ISOBootMatrixTests {
    struct Cell: Sendable, CustomTestStringConvertible {
        var firmware: Firmware
        var media: MediaKind
        var testDescription: String { "\(firmware.rawValue) \(media.rawValue)" }
    }

    static let cells = [
        Cell(firmware: .bios, media: .cd), Cell(firmware: .bios, media: .usb),
        Cell(firmware: .uefi, media: .cd), Cell(firmware: .uefi, media: .usb), Cell(firmware: .uefi, media: .disk),
    ]

    private static let built = Mutex<Result<URL, any Error>?>(nil)

    /// The ISO, built once per test process (SOURCE_DATE_EPOCH fixed, the agents disabled, the check unit in).
    static func iso() async throws -> URL {
        let bed = try await TestBed.sharedAsync()
        return try await offloaded {
            try built.withLock { cached in
                if cached == nil {
                    cached = Result {
                        let output = TestBed.logDirectory.appendingPathComponent("iso/emt-s.iso")
                        _ = try InstallMediumBuild.build(
                            MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.gzip).path,
                                          request: EditedTestBedBoots.request),
                            kernelArguments: try KernelArguments(), installerConfig: nil, epoch: 1_700_000_000,
                            output: output.path, tool: "test")
                        return output
                    }
                }
                return try cached!.get()
            }
        }
    }

    @Test("The ISO boots to the µOS with its command line and no agents", arguments: cells)
    func boots(cell: Cell) async throws {
        let bed = try await TestBed.sharedAsync()
        let iso = try await Self.iso()
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let spec = MachineSpec(firmware: cell.firmware, source: .medium(image: iso, media: cell.media, writable: false))
        let markers = ["EMTS-INIT rootfs unpacked", "EMTS-TESTBED-READY multi-user", "EMTS-CMDLINE "]
            + TestBed.agents.map { "EMTS-CHECK \($0).service masked" }
        let failures = BootExpectation.knownFailures + TestBed.agents.map { "EMTS-AGENT-STARTED \($0)" }
        let log = TestBed.logDirectory.appendingPathComponent("iso-\(cell.firmware.rawValue)-\(cell.media.rawValue).log")
        let result = try await BootRunner().boot(
            spec, expecting: BootExpectation(markers: markers, failures: failures), accelerator: accel.accelerator, log: log)
        print("ISO \(cell.testDescription): \(result.summary)")
        #expect(result.passed, "\(result.summary)")
        let console = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        let cmdline = console.split(whereSeparator: \.isNewline).first { $0.hasPrefix("EMTS-CMDLINE ") }
            .map { String($0.dropFirst("EMTS-CMDLINE ".count)).trimmingCharacters(in: .whitespacesAndNewlines) }
        // GRUB's `linux` puts BOOT_IMAGE= first; the rest is exactly the medium's kargs area.
        #expect(cmdline == "BOOT_IMAGE=/boot/vmlinuz " + (try KernelArguments()).commandLine,
                "the kernel got exactly the medium's command line")
    }
}

/// The built ISO's layout as independent tools see it, and its reproducibility.
@Suite struct ISOLayoutTests {
    @Test("xorriso, sgdisk and fdisk agree on the hybrid layout")
    func layoutAsToolsSeeIt() async throws {
        let iso = try await ISOBootMatrixTests.iso()
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
