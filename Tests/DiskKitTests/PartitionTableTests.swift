import DiskKit
import Foundation
import Testing

private let mebibyte: UInt64 = 1 << 20
private let espGUID = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
private let linuxDataGUID = "0fc63daf-8483-4772-8e79-3d69d8477de4"

private let espSpec = PartitionSpec(start: 2048, end: 34815, fileSystemType: "fat32", name: "EFI system",
                                    flags: [.esp])
private let rootSpec = PartitionSpec(start: 34816, end: 129023, fileSystemType: "ext4", name: "rootfs")

/// Writes a GPT with an ESP and a root partition to a new sparse image of `size` bytes.
private func makeGPTImage(_ url: URL, size: UInt64 = 64 * mebibyte) throws {
    try makeSparseFile(url, size: size)
    let device = try DiskDevice(path: url.path)
    let table = try device.createPartitionTable(.gpt)
    try table.add(espSpec)
    try table.add(rootSpec)
    try table.commit()
}

@Suite struct PartitionTableTests {
    @Test func createsGPTAndReadsItBack() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("disk.img")
            try makeSparseFile(image, size: 64 * mebibyte)
            let device = try DiskDevice(path: image.path)
            let facts = device.facts
            #expect(facts.sectorSize == 512)
            #expect(facts.length == 131_072)
            #expect(facts.sizeBytes == 64 << 20)
            #expect(!facts.isBlockDevice)
            #expect(facts.path == image.path)
            #expect(device.probePartitionTableType() == nil)

            let table = try device.createPartitionTable(.gpt)
            let esp = try table.add(espSpec)
            #expect(esp.number == 1)
            #expect(esp.flags.contains(.esp))
            try table.add(rootSpec)
            try table.commit()

            let reread = try DiskDevice(path: image.path).readPartitionTable()
            #expect(reread.type == .gpt)
            let partitions = reread.partitions
            try #require(partitions.count == 2)
            #expect(partitions.map(\.number) == [1, 2])
            #expect(partitions.map(\.start) == [2048, 34816])
            #expect(partitions.map(\.end) == [34815, 129023])
            #expect(partitions.map(\.length) == [32768, 94208])
            #expect(partitions.map(\.name) == ["EFI system", "rootfs"])
            #expect(partitions[0].flags.contains(.esp))
            #expect(partitions[0].flags.contains(.boot), "on GPT libparted reports boot and esp together")
            #expect(!partitions[1].flags.contains(.esp))
            #expect(partitions[1].startBytes == 34816 * 512)
            #expect(reread.freeSpace.contains { $0.lowerBound == 129024 })

            // libblkid reads the same table.
            let report = try Blkid.probe(image.path)
            #expect(report.partitionTableType == "gpt")
            let probed = try #require(report.partitionTable)
            #expect(probed.type == "gpt")
            #expect(probed.id == report.partitionTableUUID)
            #expect(probed.partitions.map(\.number) == [1, 2])
            #expect(probed.partitions.map(\.start) == partitions.map { UInt64($0.start) })
            #expect(probed.partitions.map(\.size) == partitions.map { UInt64($0.length) })
            #expect(probed.partitions.map(\.name) == ["EFI system", "rootfs"])
            #expect(probed.partitions.map(\.typeGUID) == [espGUID, linuxDataGUID])
            #expect(probed.partitions.allSatisfy { $0.uuid?.count == 36 })

            let verify = try runTool(["sgdisk", "-v", image.path])
            #expect(verify.status == 0)
            #expect(verify.output.contains("No problems found"), "\(verify.output)")
        }
    }

    @Test func createsMSDOSLabelWithActivePartition() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("mbr.img")
            try makeSparseFile(image, size: 32 * mebibyte)
            let device = try DiskDevice(path: image.path)
            let table = try device.createPartitionTable(.msdos)
            #expect(throws: PartedError.self) {
                try table.add(PartitionSpec(start: 2048, end: 4095, name: "no names on MBR"))
            }
            #expect(table.partitions.isEmpty, "a refused partition is not left behind")
            try table.add(PartitionSpec(start: 2048, end: 20479, fileSystemType: "fat32", flags: [.boot]))
            try table.add(PartitionSpec(start: 20480, end: 65535))
            try table.commit()

            let reread = try DiskDevice(path: image.path).readPartitionTable()
            #expect(reread.type == .msdos)
            #expect(reread.partitions.map(\.start) == [2048, 20480])
            #expect(reread.partitions.map(\.kind) == [.primary, .primary])
            #expect(reread.partitions[0].flags.contains(.boot))
            #expect(reread.partitions.allSatisfy { $0.name == nil })

            let probed = try #require(try Blkid.probe(image.path).partitionTable)
            #expect(probed.type == "dos")
            #expect(probed.partitions.map(\.start) == [2048, 20480])
            #expect(probed.partitions.map(\.size) == [18432, 45056])
            #expect(probed.partitions[0].isActive)
            #expect([0x0b, 0x0c].contains(probed.partitions[0].mbrType))
            #expect(probed.partitions[1].mbrType == 0x83)
            #expect(probed.partitions.allSatisfy { $0.typeGUID == nil })
        }
    }

    @Test func refusesOverlapsAndUnknownNames() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("disk.img")
            try makeGPTImage(image)
            let table = try DiskDevice(path: image.path).readPartitionTable()
            let overlap = #expect(throws: PartedError.self) {
                try table.add(PartitionSpec(start: 30000, end: 40000))
            }
            #expect(overlap?.operation == .addPartition)
            #expect(overlap?.path == image.path)
            #expect(overlap?.description.contains("30000") == true)
            let unknown = #expect(throws: PartedError.self) {
                try table.add(PartitionSpec(start: 129024, end: 130000, fileSystemType: "no-such-fs"))
            }
            #expect(unknown?.reason == .unsupported)
            #expect(table.partitions.count == 2)
            try table.remove(number: 2)
            #expect(table.partitions.map(\.number) == [1])
        }
    }

    @Test func garbageHasNoPartitionTable() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("garbage.img")
            let pattern = Array("not a disk label, just garbage\n".utf8)
            try Data((0..<(1 << 20)).map { pattern[$0 % pattern.count] }).write(to: image)
            let device = try DiskDevice(path: image.path)
            #expect(device.probePartitionTableType() == nil)
            let error = #expect(throws: PartedError.self) { try device.readPartitionTable() }
            #expect(error?.reason == .noPartitionTable)
            #expect(error?.operation == .readPartitionTable)
            #expect(error?.description.contains(image.path) == true)
            #expect(error?.description.contains("no partition table") == true)

            // libblkid finds nothing either, and that is not an error.
            let report = try Blkid.probe(image.path)
            #expect(report.isEmpty)
        }
    }

    @Test func missingDeviceNamesThePath() throws {
        let path = "/nonexistent-\(UUID().uuidString)/disk.img"
        let error = #expect(throws: PartedError.self) { try DiskDevice(path: path) }
        #expect(error?.operation == .openDevice)
        #expect(error?.path == path)
        #expect(error?.description.contains("No such file") == true)

        let directory = #expect(throws: PartedError.self) { try DiskDevice(path: "/tmp") }
        #expect(directory?.reason == .unsupported)
    }

    @Test func relocatesBackupGPTAfterGrowth() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("grow.img")
            try makeGPTImage(image, size: 64 * mebibyte)
            let before = try DiskDevice(path: image.path).readPartitionTable().partitions

            let handle = try FileHandle(forWritingTo: image)
            try handle.truncate(atOffset: 96 * mebibyte)
            try handle.close()
            let stale = try runTool(["sgdisk", "-v", image.path])
            #expect(!stale.output.contains("No problems found"), "\(stale.output)")

            // A plain read declines libparted's offer to fix, and leaves the file alone.
            let untouched = try fileBytes(image)
            let reread = try DiskDevice(path: image.path).readPartitionTable()
            #expect(reread.partitions == before)
            #expect(try fileBytes(image) == untouched)

            #expect(try DiskDevice.relocateBackupGPT(at: image.path))
            let verify = try runTool(["sgdisk", "-v", image.path])
            #expect(verify.output.contains("No problems found"), "\(verify.output)")
            let device = try DiskDevice(path: image.path)
            #expect(device.facts.length == 196_608)
            let after = try device.readPartitionTable()
            #expect(after.partitions == before)
            // The new last usable sector: 196 608 sectors minus the 33-sector backup GPT and one more.
            #expect(after.freeSpace.last?.upperBound == 196_574, "usable area reaches the new end")
            #expect(try Blkid.probe(image.path).partitionTable?.partitions.map(\.start) == [2048, 34816])

            #expect(try DiskDevice.relocateBackupGPT(at: image.path) == false, "nothing left to move")
        }
    }

    @Test func relocationNeedsAGPT() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("blank.img")
            try makeSparseFile(image, size: 8 * mebibyte)
            let error = #expect(throws: PartedError.self) { try DiskDevice.relocateBackupGPT(at: image.path) }
            #expect(error?.reason == .noPartitionTable)
        }
    }

    @Test func gptProblemsNamesADamagedBackupAndAMisplacedOne() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("check.img")
            try makeGPTImage(image)
            #expect(try DiskDevice.gptProblems(at: image.path).isEmpty)

            // Overwrite the backup header (the last sector): libparted says so, and changes nothing.
            let handle = try FileHandle(forWritingTo: image)
            try handle.seek(toOffset: 64 * mebibyte - 512)
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 512))
            try handle.close()
            let before = try fileBytes(image)
            let damaged = try DiskDevice.gptProblems(at: image.path)
            #expect(!damaged.isEmpty)
            #expect(try fileBytes(image) == before)

            let grown = directory.appendingPathComponent("grown.img")
            try makeGPTImage(grown)
            let growing = try FileHandle(forWritingTo: grown)
            try growing.truncate(atOffset: 96 * mebibyte)
            try growing.close()
            #expect(!(try DiskDevice.gptProblems(at: grown.path)).isEmpty, "backup not at the end")

            let blank = directory.appendingPathComponent("blank.img")
            try makeSparseFile(blank, size: 4 * mebibyte)
            let error = #expect(throws: PartedError.self) { try DiskDevice.gptProblems(at: blank.path) }
            #expect(error?.reason == .noPartitionTable)
        }
    }
}
