import ArgumentParser
import BootTest
import Foundation
import InstallMedium
import MicroOS
import Synchronization

/// `emts-iso boot-test ISO`: boots the medium in QEMU the ways the field does and prints a pass/fail table.
struct BootTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot-test",
        abstract: "Boot an EMT-S ISO in QEMU (SeaBIOS, OVMF, OVMF Secure Boot; as CD, USB stick, disk) and report each cell.",
        discussion: """
        A cell passes when the kernel prints the medium's command line, systemd reaches multi-user.target and no \
        provisioning agent starts. Cells run two at a time (EMTS_VM_SLOTS); each keeps its serial log. Without \
        --firmware/--media every default cell runs: SeaBIOS and OVMF as CD, USB stick and disk, plus OVMF Secure \
        Boot with Microsoft's keys when the ISO boots through shim. Needs qemu-system-x86, ovmf and seabios \
        (scripts/install-deps). Uses KVM when a trial boot works, else TCG (EMTS_ACCEL=tcg|kvm forces one).
        Exit codes: 0 every cell passed, 1 a cell failed or the ISO could not be read.
        """)

    @Argument(help: "The ISO to boot.")
    var iso: String

    @Option(help: "Firmware (repeatable): bios, uefi, uefi-secure (Microsoft keys), uefi-snakeoil.")
    var firmware: [Firmware] = []

    @Option(help: "How the ISO is attached (repeatable): cd, usb, disk.")
    var media: [MediaKind] = []

    @Option(help: "Attach an empty 16 GiB target disk on this bus: nvme, sata or virtio.")
    var target: DiskBus?

    @Option(help: ArgumentHelp("Where the serial logs go (default: ./boot-test-<ISO name>).", valueName: "DIR"))
    var logs: String?

    @Option(help: ArgumentHelp("Also write the results as JUnit XML to FILE.", valueName: "FILE"))
    var junit: String?

    @Flag(help: "Results as JSON lines.")
    var json = false

    func run() async throws {
        let console = Console(json: json)
        let isoURL = URL(fileURLWithPath: iso)
        let logDirectory = URL(fileURLWithPath: logs ?? "boot-test-\(isoURL.deletingPathExtension().lastPathComponent)")
        let check: MediumBootCheck
        let secureBoot: String
        do {
            try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
            let medium = try MediumImage(path: iso)
            let kargs = try KargsEditor(medium: medium).current()
            let (map, _) = try medium.kargsMap()
            let mediumArgument = medium.buildID.map { " emts.medium=\($0)" } ?? ""
            secureBoot = try medium.secureBootMode()
            check = MediumBootCheck(
                grubCommandLine: "BOOT_IMAGE=/boot/vmlinuz \(kargs)\(mediumArgument)",
                signedCommandLine: map.signedImage == nil ? nil : map.defaultCommandLine + mediumArgument,
                forbiddenUnits: EditRequest.agentUnits)
            // The ISO's own kernel decides whether KVM works here.
            let kernel = logDirectory.appendingPathComponent("vmlinuz")
            try Data(try medium.contents(of: "/boot/vmlinuz")).write(to: kernel)
        } catch {
            console.failure(error)
            throw ExitCode.failure
        }
        var firmwares = firmware
        if firmwares.isEmpty { firmwares = [.bios, .uefi] + (secureBoot == "shim" ? [.uefiSecure] : []) }
        let medias = media.isEmpty ? MediaKind.allCases : media
        let cells = firmwares.flatMap { firmware in
            medias.compactMap { media -> BootCell? in
                // Secure Boot cells by default: as CD and stick (a fixed disk is the same boot path as the stick).
                if firmware.enforcesSecureBoot, self.media.isEmpty, media == .disk { return nil }
                return BootCell(firmware: firmware, media: media, target: target)
            }
        }
        let accel = await AcceleratorChoice.resolve(probeKernel: logDirectory.appendingPathComponent("vmlinuz"))
        console.note("booting \(cells.count) cell(s) with \(accel); logs in \(logDirectory.path)")
        let results = await BootMatrix.run(image: isoURL, cells: cells, check: check, logDirectory: logDirectory,
                                           accelerator: accel.accelerator,
                                           finished: { result in console.cell(result) })
        console.bootTable(results)
        if let junit {
            do {
                try Data(JUnitReport.xml(suite: "emts-iso boot-test \(isoURL.lastPathComponent)", results: results).utf8)
                    .write(to: URL(fileURLWithPath: junit), options: .atomic)
            } catch {
                console.failure(error)
                throw ExitCode.failure
            }
        }
        if results.contains(where: { !$0.passed }) { throw ExitCode.failure }
    }
}

extension Firmware: ExpressibleByArgument {}
extension MediaKind: ExpressibleByArgument {}
extension DiskBus: ExpressibleByArgument {}
