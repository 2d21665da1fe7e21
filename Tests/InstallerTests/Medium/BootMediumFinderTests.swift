import Foundation
@testable import Installer
import Testing

@Suite struct BootMediumFinderTests {
    @Test func findsTheStickAndItsConfigPartition() throws {
        try withScratchDirectory { directory in
            let system = try FakeSystem(root: directory.path)
            try system.addDisk("nvme0n1", bus: FakeSystem.Bus.nvme(0), sizeBytes: 1 << 30, deviceNumber: "259:0")
            try makeSparseFile(system.dev + "/nvme0n1", size: 1 << 20)
            let medium = try FakeMedium(on: system, buildID: "20250131-abc", prepareImages: { _ in })

            let found = try BootMediumFinder(paths: system.paths, mounter: medium.mounter).find(buildID: "20250131-abc")
            #expect(found.device == system.dev + "/sdb1", "partition 1, so that the config partition can be mounted too")
            #expect(found.disk == "sdb")
            #expect(found.deviceNames == ["sdb", "sdb1", "sdb2", "sdb3"])
            #expect(found.buildID == "20250131-abc")
            #expect(found.info == "EMT-S install medium 20250131-abc")
            #expect(found.configPartition == system.dev + "/sdb3")
            #expect(found.mount.root == medium.mediumDirectory)
            #expect(found.imagesDirectory == medium.mediumDirectory + "/images")
            #expect(medium.mounter.calls == ["mount \(system.dev)/sdb1 iso9660 read-only"])

            // Without emts.medium the only medium is taken.
            #expect(try BootMediumFinder(paths: system.paths, mounter: medium.mounter).find(buildID: nil).buildID == "20250131-abc")
        }
    }

    @Test func anotherBuildIsNotTheMedium() throws {
        try withScratchDirectory { directory in
            let system = try FakeSystem(root: directory.path)
            let medium = try FakeMedium(on: system, buildID: "old-build", prepareImages: { _ in })
            let error = #expect(throws: BootMediumError.self) {
                try BootMediumFinder(paths: system.paths, mounter: medium.mounter).find(buildID: "new-build")
            }
            guard case .notFound("new-build", let probed) = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(probed.contains("sdb1: EMTS_INSTALL, but build id old-build, not new-build"))
            #expect(probed.contains("sdb2: vfat \"EMTS-EFI\""))
            #expect(medium.mounter.calls == ["mount \(system.dev)/sdb1 iso9660 read-only", "unmount \(system.dev)/sdb1"])
        }
    }

    @Test func noMediumSaysWhatEachDeviceIs() throws {
        try withScratchDirectory { directory in
            let system = try FakeSystem(root: directory.path)
            try system.addDisk("sda", bus: FakeSystem.Bus.sata(0), sizeBytes: 8 << 20, deviceNumber: "8:0")
            try makeRawImage(system.dev + "/sda")
            try system.addDisk("loop0", bus: FakeSystem.Bus.virtual, sizeBytes: 1 << 20, deviceNumber: "7:0")
            try system.addDisk("vda", bus: FakeSystem.Bus.virtio(0), sizeBytes: 1 << 20, deviceNumber: "254:0")
            let error = #expect(throws: BootMediumError.self) {
                try BootMediumFinder(paths: system.paths, mounter: DirectoryMounter([:])).find(buildID: nil)
            }
            guard case .notFound(nil, let probed) = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(probed.count == 2, "loop devices are not listed")
            #expect(probed.first == "sda: gpt partition table")
            #expect(probed.last?.hasPrefix("vda: cannot probe: ") == true)
            #expect(error?.description.hasPrefix("no EMT-S install medium (an ISO 9660 file system labelled EMTS_INSTALL") == true)
        }
    }

    @Test func twoMediaWithoutABuildIDAreAmbiguous() throws {
        try withScratchDirectory { directory in
            let system = try FakeSystem(root: directory.path)
            let first = try FakeMedium(on: system, buildID: "b1", prepareImages: { _ in })
            let second = try FakeMedium(on: system, buildID: "b2", disk: "sdc", hostNumber: 5, prepareImages: { _ in })
            let mounter = DirectoryMounter([system.dev + "/sdb1": first.mediumDirectory,
                                            system.dev + "/sdc1": second.mediumDirectory])
            let finder = BootMediumFinder(paths: system.paths, mounter: mounter)
            #expect(throws: BootMediumError.ambiguous(candidates: ["\(system.dev)/sdb1 (build b1)", "\(system.dev)/sdc1 (build b2)"])) {
                try finder.find(buildID: nil)
            }
            #expect(try finder.find(buildID: "b2").device == system.dev + "/sdc1")
        }
    }
}
