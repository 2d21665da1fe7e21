import DiskKit
import Foundation
@testable import Installer
import Testing

/// The real tools on a real block device: a loop device over an image file. Needs root, losetup, mkswap,
/// mkfs.ext4, veritysetup (cryptsetup-bin) and lvm2 (CI has them).
@Suite(.serialized) struct StorageLoopDeviceTests {
    @Test func realToolsLayOutTheEMTDisk() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("disk.img").path
            // Small enough to be quick: a 64 MiB rootfs, 256 MiB swap, 64 MiB reserved, 1 GiB LVM.
            try makeInstalledDisk(image, size: 6 * gibibyte, rootfsMiB: 64, persistentMiB: 32)
            let device = try mustRun(["losetup", "-fP", "--show", image]).trimmingWhitespace
            try #require(device.hasPrefix("/dev/loop"), "losetup printed \(device)")
            defer {
                // The volume group is removed only when it lives on this loop device.
                let groups = (try? runTool(["vgs", "--noheadings", "--separator", "|", "-o", "vg_name,pv_name", "lvmvg"]))?.output ?? ""
                let devices = StorageApplier.volumeGroupDevices(groups, name: "lvmvg")
                if !devices.isEmpty, devices.allSatisfy({ PartitionNode.number(of: $0, onDisk: device) != nil }) {
                    _ = try? runTool(["vgremove", "-f", "-y", "lvmvg"])
                }
                _ = try? runTool(["losetup", "-d", device])
            }
            // Kernels without a GPT parser (CONFIG_EFI_PARTITION off, as on some CI VMs) add no partition nodes on
            // losetup -P; partx adds them through BLKPG, as libparted does after its commit.
            try mustRun(["partx", "-u", device])
            try mustRun(["mkfs.ext4", "-q", "-F", "-L", "rootfs", PartitionNode.path(disk: device, number: 2)])

            let request = StorageRequest(layout: .emt, lvmSizeGB: 1, swapGB: 0.25, reservedMB: 64,
                                         memoryBytes: 8 * gibibyte, singleDisk: true)
            let plan = try StoragePlanner(request: request).plan(disk: device)
            #expect(plan.partitions.map(\.devicePath) == (4 ... 10).map { PartitionNode.path(disk: device, number: $0) })
            let staging = directory.appendingPathComponent("staging").path
            let report = try StorageApplier(runner: ProcessRunner(), stagingDirectory: staging).apply(plan)

            func node(_ number: Int) -> String { PartitionNode.path(disk: device, number: number) }
            func probe(_ number: Int, _ tag: String) throws -> String {
                try mustRun(["blkid", "-p", "-o", "value", "-s", tag, node(number)]).trimmingWhitespace
            }
            #expect(try probe(8, "TYPE") == "swap")
            #expect(try probe(8, "LABEL") == "swap")
            #expect(try probe(8, "UUID") == report.swapUUID)
            #expect(try probe(6, "TYPE") == "ext4")
            #expect(try probe(6, "LABEL") == "rootfs_b")
            #expect(try probe(7, "LABEL") == "roothash")
            #expect(try probe(4, "TYPE") == "DM_verity_hash")

            let hash = try #require(report.rootHash)
            #expect(hash.count == 64)
            try mustRun(["veritysetup", "verify", node(2), node(4), hash])
            let stored = try mustRun(["debugfs", "-R", "cat /\(StoragePlan.rootHashFileName)", node(7)])
            #expect(stored.hasSuffix(hash + "\n"), "\(stored)")

            let groups = try mustRun(["vgs", "--noheadings", "--separator", "|", "-o", "vg_name,pv_name", "lvmvg"])
            #expect(StorageApplier.volumeGroupDevices(groups, name: "lvmvg") == [node(10)])
            #expect(try FileManager.default.contentsOfDirectory(atPath: staging).isEmpty)
            print(report.lines.joined(separator: "\n"))
        }
    }
}
