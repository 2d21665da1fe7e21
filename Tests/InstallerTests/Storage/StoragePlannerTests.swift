import DiskKit
import Foundation
@testable import Installer
import Testing

/// Sectors per MiB on the 512-byte-sector images.
private let mib: Int64 = 2048

/// The partitions as (number, name, start MiB, size MiB).
private func layout(_ plan: StoragePlan) -> [String] {
    plan.partitions.map { "\($0.number) \($0.name) @\($0.start / mib) \($0.sizeMiB)" }
}

/// Plans against a fresh 16 GiB installed disk (p3 ends at 1637 MiB; 14746 MiB free after it).
private func planSixteenGiB(_ request: StorageRequest, devicePath: String = "/dev/nvme0n1") throws -> StoragePlan {
    try withScratchDirectory { directory in
        let disk = directory.appendingPathComponent("disk.img").path
        try makeInstalledDisk(disk, size: 16 * gibibyte)
        return try StoragePlanner(request: request).plan(disk: disk, devicePath: devicePath)
    }
}

@Suite struct StoragePlannerTests {
    @Test func emtLayoutWithLVMOnTheRest() throws {
        let plan = try planSixteenGiB(storageRequest(.emt))
        #expect(plan.freeMiB == 14746)
        #expect(layout(plan) == [
            "4 hashmap_a @1637 100", "5 hashmap_b @1737 100", "6 rootfs_b @1837 4096", "7 roothash @5933 50",
            "8 swap @5983 3072", "9 reserved @9055 5120", "10 lvm @14175 2208",
        ])
        #expect(plan.unusedMiB == 0)
        #expect(plan.partitions.allSatisfy { $0.start % mib == 0 && ($0.end + 1) % mib == 0 })
        #expect(plan.partitions.allSatisfy { ($0.end - $0.start + 1) == $0.sizeMiB * mib })
        #expect(plan.partitions.map(\.devicePath).first == "/dev/nvme0n1p4")
        #expect(plan.kept.map(\.name) == ["esp", "rootfs", "edge_persistent"])
        #expect(plan.kept.map(\.devicePath) == ["/dev/nvme0n1p1", "/dev/nvme0n1p2", "/dev/nvme0n1p3"])
        #expect(plan.partition(.swap)?.role.type == .linuxSwap)
        #expect(plan.partition(.lvm)?.spec.flags == [.lvm])
        #expect(plan.partition(.reserved)?.role.wantedType == .linuxReserved)
        #expect(plan.commands == [
            .makeSwap(device: "/dev/nvme0n1p8"),
            .makeExt4(device: "/dev/nvme0n1p6", label: "rootfs_b"),
            .clearVolumeGroup(name: "lvmvg", disk: "/dev/nvme0n1"),
            .createPhysicalVolume(device: "/dev/nvme0n1p10"),
            .createVolumeGroup(name: "lvmvg", device: "/dev/nvme0n1p10"),
            .formatVerity(data: "/dev/nvme0n1p2", hash: "/dev/nvme0n1p4"),
            .storeRootHash(device: "/dev/nvme0n1p7"),
        ])
        #expect(plan.sealCommands.count == 2)
        #expect(plan.steps.contains("add partition 8 \"swap\" (3072 MiB, Linux swap) at sectors 12253184...18544639: swap"))
        #expect(plan.table.count == 1 + 3 + 7 + 1)
    }

    @Test func withoutLVMTheLayoutSitsAtTheEnd() throws {
        let plan = try planSixteenGiB(storageRequest(.emt, lvm: 0), devicePath: "/dev/sda")
        #expect(layout(plan) == [
            "4 hashmap_a @3845 100", "5 hashmap_b @3945 100", "6 rootfs_b @4045 4096", "7 roothash @8141 50",
            "8 swap @8191 3072", "9 reserved @11263 5120",
        ])
        #expect(plan.unusedMiB == 2208)
        #expect(plan.partition(.lvm) == nil)
        #expect(!plan.commands.contains { if case .createPhysicalVolume = $0 { true } else { false } })
        #expect(plan.commands.first == .makeSwap(device: "/dev/sda8"))
        #expect(plan.commands.last == .storeRootHash(device: "/dev/sda7"))
    }

    @Test func givenLVMSizeGoesLastAndTheRestStaysFree() throws {
        let plan = try planSixteenGiB(storageRequest(.emt, lvm: 1))
        #expect(layout(plan) == [
            "4 hashmap_a @2821 100", "5 hashmap_b @2921 100", "6 rootfs_b @3021 4096", "7 roothash @7117 50",
            "8 swap @7167 3072", "9 reserved @10239 5120", "10 lvm @15359 1024",
        ])
        #expect(plan.unusedMiB == 1184)
    }

    @Test func vmLayoutHasNoVerity() throws {
        let plan = try planSixteenGiB(storageRequest(.vm), devicePath: "/dev/vda")
        #expect(layout(plan) == ["4 rootfs_b @1637 3072", "5 swap @4709 3072", "6 reserved @7781 5120", "7 lvm @12901 3482"])
        #expect(plan.commands == [
            .makeSwap(device: "/dev/vda5"),
            .makeExt4(device: "/dev/vda4", label: "rootfs_b"),
            .clearVolumeGroup(name: "lvmvg", disk: "/dev/vda"),
            .createPhysicalVolume(device: "/dev/vda7"),
            .createVolumeGroup(name: "lvmvg", device: "/dev/vda7"),
        ])
        #expect(plan.sealCommands.isEmpty)
    }

    @Test func noSwapAndNoReservedKeepTheVerityNumbers() throws {
        let plan = try planSixteenGiB(storageRequest(.emt, lvm: 2, swap: 0, reservedMB: 0))
        #expect(layout(plan) == [
            "4 hashmap_a @9989 100", "5 hashmap_b @10089 100", "6 rootfs_b @10189 4096", "7 roothash @14285 50",
            "8 lvm @14335 2048",
        ])
        #expect(!plan.commands.contains(.makeSwap(device: "/dev/nvme0n1p8")))
        #expect(plan.request.swapReason == "no swap, as configured")
    }

    @Test func noneLeavesTheDiskAlone() throws {
        let plan = try planSixteenGiB(storageRequest(.none))
        #expect(plan.partitions.isEmpty)
        #expect(plan.commands.isEmpty)
        #expect(plan.unusedMiB == plan.freeMiB)
        #expect(plan.steps == ["storage layout \"none\": the disk stays as the image left it"])
    }

    @Test func aDiskTooSmallIsRefusedWithTheShortfall() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("small.img").path
            try makeInstalledDisk(disk, size: 8 * gibibyte)
            let expected = StorageError.doesNotFit(
                disk: disk, what: "the emt layout after partition 3", neededMiB: 12538, freeMiB: 6554,
                detail: "MiB: hashmap_a 100, hashmap_b 100, rootfs_b 4096, roothash 50, swap 3072, reserved 5120")
            #expect(throws: expected) { try StoragePlanner(request: storageRequest(.emt, lvm: 0)).plan(disk: disk) }
            #expect(expected.description == "\(disk): the emt layout after partition 3 does not fit: it needs 12538 MiB, "
                + "6554 MiB are free (5984 MiB short); MiB: hashmap_a 100, hashmap_b 100, rootfs_b 4096, roothash 50, "
                + "swap 3072, reserved 5120")
        }
    }

    @Test func anLVMSizeThatDoesNotFitIsNamed() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            try makeInstalledDisk(disk, size: 16 * gibibyte)
            #expect(throws: StorageError.doesNotFit(
                disk: disk, what: "LVM of 5.0 GB", neededMiB: 5120, freeMiB: 2208,
                detail: "the layout takes 12538 MiB (hashmap_a 100, hashmap_b 100, rootfs_b 4096, roothash 50, swap 3072, "
                    + "reserved 5120) of 14746 MiB free")) {
                try StoragePlanner(request: storageRequest(.emt, lvm: 5)).plan(disk: disk)
            }
            // Too little left for LVM on "the rest".
            let smaller = directory.appendingPathComponent("smaller.img").path
            try makeInstalledDisk(smaller, size: 14 * gibibyte + gibibyte / 2)
            #expect(throws: StorageError.doesNotFit(
                disk: smaller, what: "LVM on the rest of the disk", neededMiB: 1024, freeMiB: 672,
                detail: "the layout takes 12538 MiB (hashmap_a 100, hashmap_b 100, rootfs_b 4096, roothash 50, swap 3072, "
                    + "reserved 5120) of 13210 MiB free; set the LVM size to 0 for no LVM")) {
                try StoragePlanner(request: storageRequest(.emt)).plan(disk: smaller)
            }
        }
    }

    @Test func tablesOtherThanTheImagesAreRefused() throws {
        try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("disk.img").path
            let end = try makeInstalledDisk(disk, size: 16 * gibibyte)
            let table = try DiskDevice(path: disk).readPartitionTable()
            try table.add(PartitionSpec(start: end, end: end + mib - 1, name: "leftover"))
            try table.commit()
            #expect(throws: StorageError.unexpectedTable(disk: disk, detail: "partition 4 \"leftover\" already exists; "
                + "the image should leave only partitions 1-3 (ESP, rootfs, edge_persistent)")) {
                try StoragePlanner(request: storageRequest(.emt)).plan(disk: disk)
            }

            let mbr = directory.appendingPathComponent("mbr.img").path
            try makeSparseFile(mbr, size: 64 << 20)
            let msdos = try DiskDevice(path: mbr).createPartitionTable(.msdos)
            try msdos.add(PartitionSpec(start: 2048, end: 4095))
            try msdos.commit()
            #expect(throws: StorageError.unexpectedTable(disk: mbr, detail: "a msdos partition table, not the image's GPT")) {
                try StoragePlanner(request: storageRequest(.emt)).plan(disk: mbr)
            }

            let blank = directory.appendingPathComponent("blank.img").path
            try makeSparseFile(blank, size: 64 << 20)
            let error = #expect(throws: StorageError.self) {
                try StoragePlanner(request: storageRequest(.emt)).plan(disk: blank)
            }
            guard case .partitionTable(let parted)? = error else {
                Issue.record("expected a partition table error, got \(String(describing: error))")
                return
            }
            #expect(parted.reason == .noPartitionTable)
        }
    }

    @Test func badNumbersAreRefusedBeforeTheDiskIsRead() {
        #expect(throws: StorageError.invalidRequest(["swap size -2.0 GB: it must be 0 (no swap) or more",
                                                     "LVM size -1.0 GB: it must be 0 (no LVM) or more",
                                                     "reserved size -1 MB: it must be 0 (none) or more"])) {
            try StoragePlanner(request: storageRequest(.emt, lvm: -1, swap: -2, reservedMB: -1)).plan(disk: "/nonexistent/disk")
        }
        #expect(throws: StorageError.invalidRequest(["LVM size nan GB: it must be 0 (no LVM) or more"])) {
            try StoragePlanner(request: storageRequest(.vm, lvm: .nan)).plan(disk: "/nonexistent/disk")
        }
    }

    @Test func swapFollowsTodaysRules() {
        #expect(storageRequest(.emt).swapMiB == 3072, "sqrt(8) rounds to 3 GiB on a single disk")
        #expect(storageRequest(.emt, singleDisk: false).swapMiB == 4096, "half of 8 GiB with several disks")
        #expect(storageRequest(.emt, memory: 300 * gibibyte, singleDisk: false).swapMiB == 128 * 1024, "capped")
        #expect(storageRequest(.emt, memory: 300 * gibibyte).swapMiB == 17 * 1024)
        #expect(storageRequest(.emt, memory: 8 * gibibyte - 200 << 20).swapMiB == 3072, "7 GiB as free -g counts")
        #expect(storageRequest(.emt, memory: 512 << 20, singleDisk: false).swapMiB == 1024, "never below 1 GiB")
        #expect(storageRequest(.emt, swap: 2.5).swapMiB == 2560)
        #expect(storageRequest(.emt, swap: 2.5).swapReason == "as configured")
        #expect(storageRequest(.emt).swapReason == "sqrt of 8 GiB RAM, single disk")
        #expect(StorageRequest.memoryBytes(meminfo: "MemTotal:        8039232 kB\nMemFree: 1 kB\n") == 8_039_232 * 1024)
        #expect(StorageRequest.memoryBytes(meminfo: "MemFree: 1 kB\n") == nil)
    }

    @Test func partitionNodesFollowTheKernelsNaming() {
        #expect(PartitionNode.path(disk: "/dev/nvme0n1", number: 3) == "/dev/nvme0n1p3")
        #expect(PartitionNode.path(disk: "/dev/sda", number: 3) == "/dev/sda3")
        #expect(PartitionNode.path(disk: "/dev/vda", number: 10) == "/dev/vda10")
        #expect(PartitionNode.path(disk: "/dev/mmcblk0", number: 3) == "/dev/mmcblk0p3")
        #expect(PartitionNode.path(disk: "/dev/loop7", number: 1) == "/dev/loop7p1")
        #expect(PartitionNode.number(of: "/dev/sda10", onDisk: "/dev/sda") == 10)
        #expect(PartitionNode.number(of: "/dev/sdab1", onDisk: "/dev/sda") == nil)
        #expect(PartitionNode.number(of: "/dev/nvme0n1p4", onDisk: "/dev/nvme0n1") == 4)
        #expect(PartitionNode.number(of: "/dev/nvme0n10p4", onDisk: "/dev/nvme0n1") == nil)
        #expect(PartitionNode.number(of: "/dev/sda", onDisk: "/dev/sda") == nil)
    }

    /// The plan of a 64 GB disk (as labelled: 64e9 bytes) on a machine with 8 GiB RAM and this one disk.
    @Test func sixtyFourGigabyteDisk() throws {
        let plan = try withScratchDirectory { directory in
            let disk = directory.appendingPathComponent("64gb.img").path
            try makeInstalledDisk(disk, size: 64_000_000_000, rootfsMiB: 3584, persistentMiB: 512)
            return try StoragePlanner(request: storageRequest(.emt)).plan(disk: disk, devicePath: "/dev/nvme0n1")
        }
        print(plan.table.joined(separator: "\n"))
        // 64e9 bytes end at MiB 61035; the image ends at MiB 4197; the layout without LVM takes 12538 MiB.
        let lvmMiB: Int64 = 61035 - 4197 - 12538
        #expect(plan.partition(.lvm)?.sizeMiB == lvmMiB)
        #expect(plan.unusedMiB == 0)
    }
}

@Suite struct StorageRequestTests {
    @Test func madeFromTheConfiguration() {
        let config = StorageConfig(layout: .emt, lvmSizeGB: 100, swap: .gb(2.5), reservedMB: 1024)
        #expect(StorageRequest(config: config, memoryBytes: 8 * gibibyte, singleDisk: true)
            == StorageRequest(layout: .emt, lvmSizeGB: 100, swapGB: 2.5, reservedMB: 1024, memoryBytes: 8 * gibibyte,
                              singleDisk: true))
        let defaults = StorageRequest(config: StorageConfig(), memoryBytes: 8 * gibibyte, singleDisk: false)
        #expect(defaults.layout == .none)
        #expect(defaults.swapGB == nil)
        #expect(defaults.lvmSizeGB == nil)
        #expect(defaults.reservedMB == 5120)
    }
}
