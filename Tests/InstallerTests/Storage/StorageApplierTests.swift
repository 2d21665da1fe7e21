import DiskKit
import Foundation
@testable import Installer
import Testing

private let rootHash = "4392712ba01368efdf14b05c76f9e4df0d53664630b5d48632ed17a137f39076"
private let swapUUID = "2f1c1a3e-6f7b-4b61-9a53-0c2a7c4f7d10"
private let vgsNotFound = CommandResult(status: 5, standardError: "  Volume group \"lvmvg\" not found\n"
    + "  Cannot process volume group lvmvg\n")

/// What the fake tools saw, shared with the runner's answers.
private final class ToolState: @unchecked Sendable {
    private let lock = NSLock()
    private var staged: [String] = []
    private var groups: String

    init(volumeGroups: String = "") { groups = volumeGroups }

    var stagedFiles: [String] { lock.withLock { staged } }
    var volumeGroups: String {
        get { lock.withLock { groups } }
        set { lock.withLock { groups = newValue } }
    }

    func stage(_ text: String) { lock.withLock { staged.append(text) } }
}

/// A runner answering like the real tools on a healthy machine; `overrides` answer first.
private func fakeTools(_ state: ToolState,
                       overrides: @escaping @Sendable ([String]) -> CommandResult? = { _ in nil }) -> RecordingRunner {
    RecordingRunner { arguments in
        if let answer = overrides(arguments) { return answer }
        switch arguments.first {
        case "vgs":
            let groups = state.volumeGroups
            return groups.isEmpty ? vgsNotFound : CommandResult(status: 0, standardOutput: groups)
        case "vgremove":
            state.volumeGroups = ""
            return CommandResult(status: 0, standardOutput: "  Volume group \"lvmvg\" successfully removed\n")
        case "mkswap":
            return CommandResult(status: 0, standardOutput: "Setting up swapspace version 1, size = 3 GiB (3221221376 bytes)\n"
                + "LABEL=swap, UUID=\(swapUUID)\n")
        case "veritysetup":
            return CommandResult(status: 0, standardOutput: verityOutput(rootHash: rootHash))
        case "mkfs.ext4":
            if let index = arguments.firstIndex(of: "-d") {
                let file = arguments[index + 1] + "/" + StoragePlan.rootHashFileName
                state.stage((try? String(contentsOfFile: file, encoding: .utf8)) ?? "<missing>")
            }
            return CommandResult(status: 0)
        default:
            return CommandResult(status: 0)
        }
    }
}

/// The recorded commands with the root hash staging directory replaced by `<staging>`.
private func normalized(_ commands: [[String]]) -> [[String]] {
    commands.map { command in
        guard let index = command.firstIndex(of: "-d") else { return command }
        var copy = command
        copy[index + 1] = "<staging>"
        return copy
    }
}

private let vgsQuery = ["vgs", "--noheadings", "--separator", "|", "-o", "vg_name,pv_name", "lvmvg"]

@Suite struct StorageApplierTests {
    @Test func appliesTheEMTLayoutOnAnImageWithNVMeNames() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            let plan = try StoragePlanner(request: storageRequest(.emt)).plan(disk: disk, devicePath: "/dev/nvme0n1")
            let state = ToolState()
            let runner = fakeTools(state)
            let staging = directory.appendingPathComponent("staging").path
            var logged: [String] = []
            let report = try StorageApplier(runner: runner, stagingDirectory: staging).apply(plan) { logged.append($0) }

            #expect(normalized(runner.commands) == [
                vgsQuery,
                ["mkswap", "-L", "swap", "/dev/nvme0n1p8"],
                ["mkfs.ext4", "-F", "-L", "rootfs_b", "/dev/nvme0n1p6"],
                vgsQuery,
                ["pvcreate", "-ff", "-y", "/dev/nvme0n1p10"],
                ["vgcreate", "lvmvg", "/dev/nvme0n1p10"],
                ["veritysetup", "format", "/dev/nvme0n1p2", "/dev/nvme0n1p4"],
                ["mkfs.ext4", "-F", "-L", "roothash", "-d", "<staging>", "/dev/nvme0n1p7"],
            ])
            #expect(state.stagedFiles == [rootHash + "\n"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: staging).isEmpty, "staging removed")
            #expect(report.rootHash == rootHash)
            #expect(report.swapUUID == swapUUID)
            #expect(report.lines == logged)
            #expect(report.lines.contains("add partition 4 \"hashmap_a\" 100 MiB (Linux filesystem), sectors 3352576...3557375"))
            #expect(report.lines.contains("re-read the table: 10 partitions, 7 new ones as planned"))
            #expect(report.lines.contains { $0.hasPrefix("made swap: mkswap -L swap /dev/nvme0n1p8 (UUID \(swapUUID))") })
            #expect(report.lines.contains { $0.hasSuffix("root hash \(rootHash)") })
            #expect(report.lines.contains("no volume group lvmvg on this machine (\(vgsQuery.joined(separator: " ")))"))

            // The table as DiskKit, libblkid and sgdisk read it.
            let partitions = try DiskDevice(path: disk).readPartitionTable().partitions
            #expect(partitions.map(\.number) == Array(1 ... 10))
            #expect(partitions.map(\.name) == ["esp", "rootfs", "edge_persistent", "hashmap_a", "hashmap_b", "rootfs_b",
                                               "roothash", "swap", "reserved", "lvm"])
            #expect(partitions.dropFirst(3).map { $0.length / 2048 } == [100, 100, 4096, 50, 3072, 5120, 2208])
            #expect(zip(partitions, partitions.dropFirst()).allSatisfy { $0.end < $1.start }, "disk order = numbers")
            #expect(report.partitions == partitions)
            let probed = try #require(try Blkid.probe(disk).partitionTable)
            #expect(probed.partitions.dropFirst(3).map(\.typeGUID) == [
                GPTPartitionType.linuxFilesystem, .linuxFilesystem, .linuxFilesystem, .linuxFilesystem, .linuxSwap,
                .linuxFilesystem, .linuxLVM,
            ].map { $0.guid.lowercased() })
            let verify = try mustRun(["sgdisk", "-v", disk])
            #expect(verify.contains("No problems found"), "\(verify)")
        }
    }

    @Test func vmLayoutWithoutLVMOnSATANames() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            let plan = try StoragePlanner(request: storageRequest(.vm, lvm: 0)).plan(disk: disk, devicePath: "/dev/sda")
            let runner = fakeTools(ToolState())
            let report = try StorageApplier(runner: runner).apply(plan)
            #expect(runner.commands == [["mkswap", "-L", "swap", "/dev/sda5"], ["mkfs.ext4", "-F", "-L", "rootfs_b", "/dev/sda4"]])
            #expect(report.rootHash == nil)
            let partitions = try DiskDevice(path: disk).readPartitionTable().partitions
            #expect(partitions.map(\.name) == ["esp", "rootfs", "edge_persistent", "rootfs_b", "swap", "reserved"])
            #expect(partitions.dropFirst(3).map { $0.length / 2048 } == [3072, 3072, 5120])
            let lastWholeMiB: Int64 = 16383 * 2048 - 1
            #expect(partitions.last?.end == lastWholeMiB, "reserved ends at the last whole MiB")
        }
    }

    @Test func anOldVolumeGroupOnTheTargetIsRemoved() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            let plan = try StoragePlanner(request: storageRequest(.vm, lvm: 2)).plan(disk: disk, devicePath: "/dev/sda")
            let state = ToolState(volumeGroups: "  lvmvg|/dev/sda10\n  lvmvg|/dev/sda11\n")
            let runner = fakeTools(state)
            let report = try StorageApplier(runner: runner).prepare(plan)
            #expect(runner.commands == [
                vgsQuery, ["vgremove", "-f", "-y", "lvmvg"],
                ["mkswap", "-L", "swap", "/dev/sda5"], ["mkfs.ext4", "-F", "-L", "rootfs_b", "/dev/sda4"],
                vgsQuery, ["pvcreate", "-ff", "-y", "/dev/sda7"], ["vgcreate", "lvmvg", "/dev/sda7"],
            ])
            #expect(report.lines.first == "removed the old volume group lvmvg on /dev/sda10, /dev/sda11: vgremove -f -y lvmvg")
        }
    }

    @Test func aVolumeGroupUsingAnotherDiskStopsBeforeAnythingIsWritten() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            let plan = try StoragePlanner(request: storageRequest(.emt)).plan(disk: disk, devicePath: "/dev/sda")
            let runner = fakeTools(ToolState(volumeGroups: "  lvmvg|/dev/sda10\n  lvmvg|/dev/sdb1\n"))
            let expected = StorageError.volumeGroupOnOtherDisks(name: "lvmvg", devices: ["/dev/sdb1"])
            #expect(throws: expected) { try StorageApplier(runner: runner).apply(plan) }
            #expect(expected.description.hasPrefix("a volume group lvmvg already uses /dev/sdb1, not on the target disk: left alone"))
            #expect(runner.commands == [vgsQuery])
            #expect(try DiskDevice(path: disk).readPartitionTable().partitions.count == 3)
        }
    }

    @Test func namedDisksJoinTheVolumeGroupAndMayHoldItsOldOne() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            var request = storageRequest(.vm, lvm: 2)
            request.extraPhysicalVolumes = ["/dev/sdb"]
            let plan = try StoragePlanner(request: request).plan(disk: disk, devicePath: "/dev/sda")
            #expect(plan.commands.suffix(3) == [
                .wipeSignatures(device: "/dev/sdb"), .createPhysicalVolume(device: "/dev/sdb"),
                .extendVolumeGroup(name: "lvmvg", device: "/dev/sdb"),
            ])
            // An old lvmvg on the target and on the named disk (whole or partitioned) is removed; no other disk.
            let runner = fakeTools(ToolState(volumeGroups: "  lvmvg|/dev/sda7\n  lvmvg|/dev/sdb\n  lvmvg|/dev/sdb1\n"))
            _ = try StorageApplier(runner: runner).prepare(plan)
            #expect(runner.commands == [
                vgsQuery, ["vgremove", "-f", "-y", "lvmvg"],
                ["mkswap", "-L", "swap", "/dev/sda5"], ["mkfs.ext4", "-F", "-L", "rootfs_b", "/dev/sda4"],
                vgsQuery, ["pvcreate", "-ff", "-y", "/dev/sda7"], ["vgcreate", "lvmvg", "/dev/sda7"],
                ["wipefs", "-a", "/dev/sdb"], ["pvcreate", "-ff", "-y", "/dev/sdb"], ["vgextend", "lvmvg", "/dev/sdb"],
            ])
            let elsewhere = fakeTools(ToolState(volumeGroups: "  lvmvg|/dev/sdb\n  lvmvg|/dev/sdc\n"))
            #expect(throws: StorageError.volumeGroupOnOtherDisks(name: "lvmvg", devices: ["/dev/sdc"])) {
                try StorageApplier(runner: elsewhere).prepare(plan)
            }
        }
    }

    @Test func aFailingToolIsNamedWithItsOutput() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            let plan = try StoragePlanner(request: storageRequest(.emt, lvm: 0)).plan(disk: disk, devicePath: "/dev/sda")
            let runner = fakeTools(ToolState()) { arguments in
                arguments.first == "mkfs.ext4"
                    ? CommandResult(status: 1, standardOutput: "mke2fs 1.47.0 (5-Feb-2023)\n",
                                    standardError: "mkfs.ext4: No such file or directory while trying to determine filesystem size\n")
                    : nil
            }
            let expected = StorageError.commandFailed(
                command: ["mkfs.ext4", "-F", "-L", "rootfs_b", "/dev/sda6"], status: 1,
                output: "mkfs.ext4: No such file or directory while trying to determine filesystem size | mke2fs 1.47.0 (5-Feb-2023)")
            #expect(throws: expected) { try StorageApplier(runner: runner).apply(plan) }
            #expect(expected.description == "mkfs.ext4 -F -L rootfs_b /dev/sda6 exited with status 1: mkfs.ext4: No such file "
                + "or directory while trying to determine filesystem size | mke2fs 1.47.0 (5-Feb-2023)")
        }
    }

    @Test func sealingNeedsTheRootHash() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            let plan = try StoragePlanner(request: storageRequest(.emt, lvm: 0)).plan(disk: disk, devicePath: "/dev/sda")
            let runner = fakeTools(ToolState()) { arguments in
                arguments.first == "veritysetup" ? CommandResult(status: 0, standardOutput: "VERITY header information\n") : nil
            }
            // Sealing alone touches no partition table: only the two seal commands run.
            #expect(throws: StorageError.unexpectedOutput(command: ["veritysetup", "format", "/dev/sda2", "/dev/sda4"],
                                                          detail: "no \"Root hash:\" line with a hex hash",
                                                          output: "VERITY header information")) {
                try StorageApplier(runner: runner).seal(plan)
            }
            #expect(runner.commands == [["veritysetup", "format", "/dev/sda2", "/dev/sda4"]])
            #expect(try DiskDevice(path: disk).readPartitionTable().partitions.count == 3)
        }
    }

    @Test func aTableChangedSincePlanningIsRefused() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            let plan = try StoragePlanner(request: storageRequest(.emt, lvm: 0)).plan(disk: disk, devicePath: "/dev/sda")
            try makeInstalledDisk(disk, size: 16 * gibibyte, rootfsMiB: 2048)
            #expect(throws: StorageError.self) { try StorageApplier(runner: fakeTools(ToolState())).apply(plan) }
            #expect(try DiskDevice(path: disk).readPartitionTable().partitions.count == 3)
        }
    }

    @Test func toolOutputParsing() {
        #expect(StorageApplier.rootHash(verityOutput(rootHash: rootHash.uppercased())) == rootHash)
        #expect(StorageApplier.rootHash("Root hash:      \tnot-hex\n") == nil)
        #expect(StorageApplier.swapUUID("no label, UUID=0b4e-11\n") == "0b4e-11")
        #expect(StorageApplier.swapUUID("Setting up swapspace\n") == nil)
        #expect(StorageApplier.volumeGroupDevices("  lvmvg|/dev/sda10\n  other|/dev/sdb1\n  lvmvg|[unknown]\n", name: "lvmvg")
            == ["/dev/sda10", "[unknown]"])
    }
}
