import Foundation
@testable import Installer
import Testing

@Suite struct StickFlasherTests {
    static let gib: UInt64 = 1 << 30

    /// A machine with an internal SATA disk holding `/` (sda), a USB stick (sdb, 2 GiB), a small removable
    /// card (sdc, 1 MiB), a removable stick with a mounted partition (sdd) and an internal NVMe disk (nvme0n1).
    func machine(_ root: String) throws -> FakeSystem {
        let system = try FakeSystem(root: root)
        try system.addDisk("sda", bus: FakeSystem.Bus.sata(0), sizeBytes: 64 * Self.gib, deviceNumber: "8:0",
                           vendor: "ATA", model: "Internal SSD")
        try system.addPartition("sda2", of: "sda", bus: FakeSystem.Bus.sata(0), number: 2, sizeBytes: 60 * Self.gib,
                                deviceNumber: "8:2")
        try system.addDisk("sdb", bus: FakeSystem.Bus.usb(6), sizeBytes: 2 * Self.gib, deviceNumber: "8:16",
                           removable: true, vendor: "SanDisk", model: "Ultra")
        try system.addDisk("sdc", bus: FakeSystem.Bus.usb(7), sizeBytes: 1 << 20, deviceNumber: "8:32",
                           removable: true, model: "Tiny")
        try system.addDisk("sdd", bus: FakeSystem.Bus.usb(8), sizeBytes: 2 * Self.gib, deviceNumber: "8:48",
                           removable: true, model: "Busy")
        try system.addPartition("sdd1", of: "sdd", bus: FakeSystem.Bus.usb(8), number: 1, sizeBytes: Self.gib,
                                deviceNumber: "8:49")
        try system.addDisk("nvme0n1", bus: FakeSystem.Bus.nvme(0), sizeBytes: 64 * Self.gib, deviceNumber: "259:0",
                           model: "Samsung")
        try system.setMountInfo([
            "27 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw",
            "40 27 8:49 / /media/busy rw,relatime - vfat /dev/sdd1 rw",
        ])
        // Device nodes are sparse regular files of the disks' sizes.
        for (name, size) in [("sda", 64 * Self.gib), ("sdb", 2 * Self.gib), ("sdc", UInt64(1 << 20)),
                             ("sdd", 2 * Self.gib), ("nvme0n1", 64 * Self.gib)] {
            let path = system.dev + "/" + name
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: size)
            try handle.close()
        }
        try system.addLink("disk/by-id/usb-SanDisk_Ultra-0:0", to: "../../sdb")
        return system
    }

    func withMachine(_ body: (FakeSystem, String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("flash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let image = root + "/emt-s.iso"
        try Data((0 ..< 3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 7) }).write(to: URL(fileURLWithPath: image))
        try body(try machine(root + "/machine"), image)
    }

    @Test func refusesWhatIsNotASafeStick() throws {
        try withMachine { system, _ in
            let flasher = StickFlasher(paths: system.paths)
            let cases: [(String, String, Bool)] = [
                ("sda", "holds the running system's root filesystem", false),
                ("nvme0n1", "not a removable or USB disk", true),
                ("sdc", "smaller than the image", false),
                ("sdd", "mounted at /media/busy", false),
                ("sda2", "a partition of", false),
                ("sdz", "not a disk this machine has", false),
            ]
            for (name, reason, overridable) in cases {
                let device = system.dev + "/" + name
                let refusal = #expect(throws: FlashRefusal.self, "\(name)") {
                    try flasher.target(device, imageBytes: 3_000_000, force: false)
                }
                #expect(refusal?.description.hasPrefix(device + ": ") == true, "\(name)")
                #expect(refusal?.reason.contains(reason) == true, "\(name): \(refusal?.reason ?? "")")
                #expect(refusal?.overridable == overridable, "\(name)")
            }
            // --force allows only the internal-but-idle disk.
            let forced = try flasher.target(system.dev + "/nvme0n1", imageBytes: 3_000_000, force: true)
            #expect(forced.path == system.dev + "/nvme0n1")
            #expect(throws: FlashRefusal.self) { try flasher.target(system.dev + "/sda", imageBytes: 1, force: true) }
            #expect(throws: FlashRefusal.self) { try flasher.target(system.dev + "/sdd", imageBytes: 1, force: true) }
        }
    }

    @Test func flashesAStickThroughItsByIDLinkAndReadsItBack() throws {
        try withMachine { system, image in
            let flasher = StickFlasher(paths: system.paths)
            let target = try flasher.target(system.dev + "/disk/by-id/usb-SanDisk_Ultra-0:0", imageBytes: 3_000_000,
                                            force: false)
            #expect(target.path == system.dev + "/sdb")
            #expect(target.summary.contains("SanDisk Ultra") && target.summary.contains("removable"))
            var seen: [UInt64] = []
            let report = try flasher.flash(image, to: target) { done, _ in seen.append(done) }
            #expect(report.verified && report.bytes == 3_000_000)
            #expect(seen.first == 0 && seen.last == 3_000_000)
            let written = try Data(contentsOf: URL(fileURLWithPath: system.dev + "/sdb")).prefix(3_000_000)
            #expect(written == (try Data(contentsOf: URL(fileURLWithPath: image))))
        }
    }

    @Test func flashesAnImageFileAndPassesItsReadback() throws {
        try withMachine { system, image in
            let flasher = StickFlasher(paths: system.paths)
            let output = (image as NSString).deletingLastPathComponent + "/stick.img"
            let target = try flasher.target(output, imageBytes: 3_000_000, force: false)
            #expect(flasher.currentContents(of: target) == "nothing (a new file)")
            let report = try flasher.flash(image, to: target)
            #expect(report.verified && report.sha256 == report.readBackSHA256)
            #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == (try Data(contentsOf: URL(fileURLWithPath: image))))
        }
    }

    @Test func aMissingImageIsNamed() throws {
        try withMachine { system, image in
            let flasher = StickFlasher(paths: system.paths)
            let target = try flasher.target(system.dev + "/sdb", imageBytes: 1, force: false)
            let error = #expect(throws: FlashError.self) { try flasher.flash(image + ".missing", to: target) }
            #expect(error?.description.hasPrefix(image + ".missing: ") == true)
        }
    }
}
