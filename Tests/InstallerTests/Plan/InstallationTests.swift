import DiskKit
import Foundation
@testable import Installer
import Testing

private let mebibyte: UInt64 = 1 << 20

/// A machine booted from an EMT-S stick (`sdb`, build B1) carrying an 8 MiB gzip image, with an NVMe disk
/// (32 MiB, an earlier install on it) and a SATA disk (64 MiB).
private struct InstallMachine {
    let system: FakeSystem
    let medium: FakeMedium
    let firmware: FakeFirmware
    let runner: RecordingRunner
    let raw: String
    let installedRoot: String
    let clock = ManualClock()

    init(_ directory: URL, uefi: Bool = true, configYAML: String? = nil, embeddedYAML: String? = nil,
         commandLine: String = "root=tmpfs console=ttyS0,115200n8 emts.medium=B1", nvmeBytes: UInt64 = 32 << 20) throws {
        system = try FakeSystem(root: directory.path)
        raw = directory.appendingPathComponent("emt.raw").path
        try makeRawImage(raw)
        let raw = self.raw
        // What "mounting" the installed root (the target's partition 2) shows: a minimal system to configure.
        installedRoot = directory.appendingPathComponent("installed-root").path
        try writeText("root:x:0:0:root:/root:/bin/sh\n", to: installedRoot + "/etc/passwd")
        try writeText("root:x:0:\n", to: installedRoot + "/etc/group")
        medium = try FakeMedium(on: system, buildID: "B1", prepareImages: { images in
            try compressImage(raw, name: "emt-s", compression: .gzip, into: images)
        }, configYAML: configYAML, extraDirectories: [system.dev + "/nvme0n1p2": installedRoot])
        try system.addDisk("nvme0n1", bus: FakeSystem.Bus.nvme(0), sizeBytes: nvmeBytes, deviceNumber: "259:0",
                           model: "Samsung SSD 980")
        try makeSparseFile(system.dev + "/nvme0n1", size: nvmeBytes)
        try makeGPT(system.dev + "/nvme0n1", partitions: [PartitionSpec(start: 2048, end: 4095, name: "old")])
        try system.addDisk("sda", bus: FakeSystem.Bus.sata(0), sizeBytes: 64 << 20, deviceNumber: "8:0",
                           vendor: "ATA", model: "QEMU HARDDISK")
        try makeSparseFile(system.dev + "/sda", size: 64 << 20)
        try system.addLink("disk/by-id/ata-QEMU_HARDDISK_QM00001", to: "../../sda")
        try system.setCommandLine(commandLine)
        if let embeddedYAML { try writeText(embeddedYAML, to: system.root + "/etc/emts/installer.yaml") }
        if uefi { try system.enableUEFI() }
        let firmware = FakeFirmware(entries: [(0, "UiApp", "FvVol(x)"), (2, "UEFI USB", "PciRoot(0x0)/USB(0,0)"),
                                              (3, "EMT-S", "HD(1,GPT,old)")], order: [3, 2, 0])
        self.firmware = firmware
        runner = RecordingRunner { firmware.answer($0) }
    }

    func installation(_ log: InstallLog = InstallLog { _, _ in }) -> Installation {
        let clock = self.clock
        let environment = InstallEnvironment(
            paths: system.paths, configPath: system.root + "/etc/emts/installer.yaml", mounter: medium.mounter,
            runner: runner, clock: clock.function, now: { Date(timeIntervalSince1970: 1_738_324_800) },
            mediumWaitSeconds: 3, sleep: { clock.now += $0 })
        return Installation(environment: environment, log: log)
    }

    var target: String { system.dev + "/nvme0n1" }
}

private func readyPlan(_ preparation: Installation.Preparation) throws -> InstallPlan {
    guard case .ready(let plan) = preparation else {
        Issue.record("expected a plan, got \(preparation)")
        throw CancellationError()
    }
    return plan
}

@Suite struct InstallationTests {
    @Test func dryRunPlansEverythingAndWritesNothing() throws {
        try withScratchDirectory { directory in
            let machine = try InstallMachine(directory)
            let before = try sha256(of: machine.target)
            let installation = machine.installation()
            let plan = try readyPlan(try installation.prepare())

            #expect(plan.medium.device == machine.system.dev + "/sdb1")
            #expect(plan.medium.configPartition == machine.system.dev + "/sdb3")
            #expect(plan.image.name == "emt-s.raw.gz")
            #expect(plan.layout?.requiredBytes == 8 * mebibyte)
            #expect(plan.target.disk.name == "nvme0n1")
            #expect(plan.target.reason.contains("the only eligible NVMe disk"))
            #expect(plan.bootEntry.staleEntries.map(\.number) == ["0003"])
            #expect(plan.steps.map(\.code) == ["wipe-signatures", "write-image", "verify-checksum", "write-head",
                                               "relocate-backup-gpt", "reread-partition-table", "configure-system",
                                               "boot-entry",
                                               "boot-entry", "boot-entry", "save-log", "after-install"])

            let text = plan.description
            #expect(text.contains("medium    \(machine.system.dev)/sdb1 (build B1)"))
            #expect(text.contains("sha256 \(plan.image.expectedSHA256)"))
            #expect(text.contains("target    \(machine.target) (NVMe, 33.6 MB, Samsung SSD 980): chosen automatically"))
            #expect(text.contains("target: auto (default)"))
            #expect(text.contains("sdb") && text.contains("it holds the install medium this machine booted from"))
            #expect(text.contains("1. zero the first and last MiB of \(machine.target)"))
            #expect(text.contains("delete the stale boot entry Boot0003 \"EMT-S\""))
            #expect(text.contains("reboot into the installed system"))

            let json = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
            #expect(json.contains("\"step\":\"wipe-signatures\""))
            #expect(json.contains("\"buildID\":\"B1\""))

            // Only reads happened.
            #expect(try sha256(of: machine.target) == before)
            #expect(machine.runner.commands == [["efibootmgr", "-v"]])
            #expect(machine.medium.mounter.calls.allSatisfy { $0.hasSuffix("read-only") || $0.hasPrefix("unmount") })
            installation.close()
            #expect(machine.medium.mounter.calls.last == "unmount \(machine.system.dev)/sdb1")
        }
    }

    @Test func installsEndToEnd() throws {
        try withScratchDirectory { directory in
            let machine = try InstallMachine(directory, configYAML: "progress_interval_seconds: 1\n")
            let installation = machine.installation()
            let plan = try readyPlan(try installation.prepare())
            #expect(plan.config.progressIntervalSeconds == 1)
            #expect(plan.config.origin(of: .progressIntervalSeconds).hasPrefix("EMTS-CONFIG:/installer.yaml"))

            let report = try installation.install(plan, progressStyle: .lines(interval: 1))
            #expect(report.write.bytesWritten == 8 * mebibyte)
            #expect(report.write.backupGPTMoved)
            #expect(report.bootEntry == "0001")
            #expect(try mustRun(["sgdisk", "-v", machine.target]).contains("No problems found"))
            #expect(try Blkid.probe(machine.target).partitionTable?.id == (try Blkid.probe(machine.raw).partitionTable?.id))
            #expect(machine.firmware.entries.filter { $0.label == "EMT-S" }.map(\.path) == [#"HD(1,GPT,new)/File(\EFI\BOOT\BOOTX64.EFI)"#])
            #expect(machine.firmware.order == [1, 2, 0])
            #expect(machine.runner.commands.contains(["efibootmgr", "--create", "--disk", machine.target, "--part", "1",
                                                      "--label", "EMT-S", "--loader", #"\EFI\BOOT\BOOTX64.EFI"#]))

            let saved = try #require(installation.saveLog())
            #expect(saved == "\(machine.system.dev)/sdb3:/logs/install-20250131T120000Z.log")
            let log = try String(contentsOfFile: machine.medium.configDirectory + "/logs/install-20250131T120000Z.log",
                                 encoding: .utf8)
            #expect(log.contains("medium: \(machine.system.dev)/sdb1, build B1"))
            #expect(log.contains("wrote 8.4 MB to \(machine.target)"))
            #expect(log.contains("UEFI boot entry Boot0001 \"EMT-S\" created and first in BootOrder; deleted stale Boot0003"))
            #expect(machine.medium.mounter.calls.contains("mount \(machine.system.dev)/sdb3 vfat read-write"))
            // The installed root was mounted read-write for the configuration, and unmounted again.
            let rootMounts = machine.medium.mounter.calls.filter { $0.contains("2 ext4 read-write") }
            #expect(rootMounts.count == 1, "\(machine.medium.mounter.calls)")
            #expect(log.contains("configuring the installed system on "))
            #expect(installation.saveLog() == "\(machine.system.dev)/sdb3:/logs/install-20250131T120000Z-2.log")

            #expect(installation.finish(.reboot) == nil)
            #expect(machine.runner.commands.last == ["systemctl", "--no-block", "reboot"])
            #expect(machine.medium.mounter.calls.last == "unmount \(machine.system.dev)/sdb1")
            #expect(installation.finish(.none) == nil)
            #expect(machine.runner.commands.last == ["systemctl", "--no-block", "reboot"])
        }
    }

    @Test func biosInstallNeedsNoBootEntry() throws {
        try withScratchDirectory { directory in
            let machine = try InstallMachine(directory, uefi: false, configYAML: "after_install: poweroff\n")
            let installation = machine.installation()
            let plan = try readyPlan(try installation.prepare())
            #expect(plan.bootEntry.firmware == .bios)
            #expect(plan.steps.map(\.code).filter { $0 == "boot-entry" }.count == 1)
            let report = try installation.install(plan, progressStyle: .lines(interval: 5))
            #expect(report.bootEntry == nil)
            #expect(machine.runner.commands.isEmpty)
            #expect(installation.finish(plan.config.afterInstall) == nil)
            #expect(machine.runner.commands == [["systemctl", "--no-block", "poweroff"]])
        }
    }

    @Test func configErrorsStopBeforeAnyDiskIsTouched() throws {
        try withScratchDirectory { directory in
            let machine = try InstallMachine(directory, configYAML: "target: auto\ntarget_prefernce: largest\n")
            let before = try sha256(of: machine.target)
            let error = #expect(throws: InstallError.self) { try machine.installation().prepare() }
            #expect(error?.exitCode == .badConfiguration)
            #expect(error == .config(.unknownKey(file: "EMTS-CONFIG:/installer.yaml (\(machine.system.dev)/sdb3)",
                                                 key: "target_prefernce", line: 2,
                                                 known: (InstallerSettings.Key.allCases.map(\.rawValue)
                                                    + InstallerSettings.SystemKey.allCases.map(\.rawValue)).sorted(),
                                                 suggestion: "target_preference")))
            #expect(try sha256(of: machine.target) == before)
            #expect(machine.runner.commands.isEmpty)
        }
    }

    @Test func targetComesFromTheStickThenTheKernelCommandLine() throws {
        try withScratchDirectory { directory in
            let onStick = try InstallMachine(directory.appendingPathComponent("a"),
                                             configYAML: "target: /dev/disk/by-id/ata-QEMU_HARDDISK_QM00001\n",
                                             embeddedYAML: "target: nvme0n1\ntarget_preference: largest\n")
            let plan = try readyPlan(try onStick.installation().prepare())
            #expect(plan.target.disk.name == "sda")
            #expect(plan.config.targetPreference == .largest)
            #expect(plan.configFiles.count == 2)
            #expect(plan.target.reason.hasPrefix("named by target in EMTS-CONFIG:/installer.yaml"))

            let onKernel = try InstallMachine(directory.appendingPathComponent("b"),
                                              configYAML: "target: /dev/disk/by-id/ata-QEMU_HARDDISK_QM00001\n",
                                              commandLine: "emts.medium=B1 emts.target=nvme0n1")
            let overridden = try readyPlan(try onKernel.installation().prepare())
            #expect(overridden.target.disk.name == "nvme0n1")
            #expect(overridden.target.reason == "named by target in kernel command line (emts.target=nvme0n1)")

            let medium = try InstallMachine(directory.appendingPathComponent("c"), commandLine: "emts.medium=B1 emts.target=sdb")
            let error = #expect(throws: InstallError.self) { try medium.installation().prepare() }
            #expect(error?.exitCode == .noTarget)
            #expect(error?.description.hasPrefix("target sdb (sdb) must not be written: it holds the install medium") == true)
        }
    }

    @Test func noEligibleDiskAndNoMediumHaveTheirExitCodes() throws {
        try withScratchDirectory { directory in
            let small = try InstallMachine(directory.appendingPathComponent("a"), configYAML: "target_preference: smallest\nmin_disk_gb: 1\n")
            let error = #expect(throws: InstallError.self) { try small.installation().prepare() }
            #expect(error?.exitCode == .noTarget)
            #expect(error?.description.contains("nvme0n1: too small: 33.6 MB but 1.0 GB needed (min_disk_gb)") == true)

            let elsewhere = try InstallMachine(directory.appendingPathComponent("b"), commandLine: "emts.medium=B2")
            let log = InstallLog { _, _ in }
            let missing = #expect(throws: InstallError.self) { try elsewhere.installation(log).prepare() }
            #expect(missing?.exitCode == .noMedium)
            #expect(missing?.description.contains("sdb1: EMTS_INSTALL, but build id B1, not B2") == true)
            #expect(log.transcript.contains("waiting up to 3 s for the install medium (build B2) to appear"))
            #expect(elsewhere.clock.now >= 103, "waited for the medium")
        }
    }

    @Test func switchedOffDoesNothing() throws {
        try withScratchDirectory { directory in
            let machine = try InstallMachine(directory, commandLine: "emts.medium=B1 emts.install=0")
            guard case .switchedOff(let reason) = try machine.installation().prepare() else {
                Issue.record("expected the installer to be off")
                return
            }
            #expect(reason == "the kernel command line says emts.install=0")
            #expect(machine.medium.mounter.calls.isEmpty)
        }
    }

    @Test func listsDisksWithTheMediumExcluded() throws {
        try withScratchDirectory { directory in
            let machine = try InstallMachine(directory)
            let listing = try machine.installation().listDisks()
            #expect(listing.notes.isEmpty)
            #expect(listing.medium?.buildID == "B1")
            #expect(listing.requirement.bytes == 8 * mebibyte)
            let verdicts = Dictionary(uniqueKeysWithValues: listing.verdicts.map { ($0.disk.name, $0) })
            #expect(verdicts["nvme0n1"]?.isEligible == true)
            #expect(verdicts["sda"]?.isEligible == true)
            #expect(verdicts["sdb"]?.exclusions == [.bootMedium, .removable])
        }
    }
}
