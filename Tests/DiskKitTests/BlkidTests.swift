import DiskKit
import Foundation
import Testing

@Suite struct BlkidTests {
    @Test func readsVFATLabelAndUUID() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("fat.img")
            try makeSparseFile(image, size: 16 << 20)
            let mkfs = try runTool(["mkfs.vfat", "-n", "EMTSCFG", "-i", "1234ABCD", image.path])
            try #require(mkfs.status == 0, "\(mkfs.output)")

            let report = try Blkid.probe(image.path)
            #expect(report.type == "vfat")
            #expect(report.label == "EMTSCFG")
            #expect(report.uuid == "1234-ABCD")
            #expect(report.usage == "filesystem")
            #expect(report.values["TYPE"] == "vfat")
            #expect(report.partitionTable == nil)
            #expect(!report.isEmpty)
        }
    }

    @Test func probesAFilesystemInsideAPartitionWindow() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("disk.img")
            try makeSparseFile(image, size: 64 << 20)
            let table = try DiskDevice(path: image.path).createPartitionTable(.gpt)
            try table.add(PartitionSpec(start: 2048, end: 67583, fileSystemType: "fat32", name: "ESP", flags: [.esp]))
            try table.commit()
            let mkfs = try runTool(["mkfs.vfat", "-n", "INSIDE", "-i", "CAFEF00D", "--offset=2048",
                                    image.path, String(32 << 10)])
            try #require(mkfs.status == 0, "\(mkfs.output)")

            let whole = try Blkid.probe(image.path)
            #expect(whole.partitionTableType == "gpt")
            #expect(whole.type == nil)
            let partition = try #require(whole.partitionTable?.partitions.first)
            #expect(partition.startBytes == 2048 * 512)
            #expect(partition.sizeBytes == 32 << 20)

            let inside = try Blkid.probe(image.path, window: ProbeWindow(partition))
            #expect(inside.type == "vfat")
            #expect(inside.label == "INSIDE")
            #expect(inside.uuid == "CAFE-F00D")
            #expect(inside.window == ProbeWindow(offset: 1 << 20, size: 32 << 20))
        }
    }

    @Test func missingFileNamesThePath() throws {
        let path = "/nonexistent-\(UUID().uuidString).img"
        let error = #expect(throws: BlkidError.self) { try Blkid.probe(path) }
        #expect(error?.operation == .open)
        #expect(error?.path == path)
        #expect(error?.errno == ENOENT)
        #expect(error?.description.contains(path) == true)
    }

    @Test func emptyFileIsAnEmptyReport() throws {
        try withScratchDirectory { directory in
            let image = directory.appendingPathComponent("zero.img")
            try makeSparseFile(image, size: 1 << 20)
            let report = try Blkid.probe(image.path)
            #expect(report.isEmpty)
            #expect(report.type == nil)
        }
    }
}

@Suite struct MBRTableTests {
    @Test func readsTheFourEntriesAsTheyAre() {
        var sector = [UInt8](repeating: 0, count: 512)
        sector[510] = 0x55
        sector[511] = 0xAA
        // Entry 1: protective 0xEE from sector 1; entry 2: active, type 0x00, sector 0, 1 sector (GRUB's hybrid).
        sector[446 + 4] = 0xEE
        sector[446 + 8] = 1
        sector[446 + 12] = 0x00; sector[446 + 13] = 0x10
        sector[462] = 0x80
        sector[462 + 12] = 1
        let entries = MBRTable.parse(sector)
        #expect(entries.map(\.number) == [1, 2])
        #expect(entries[0].mbrType == 0xEE && entries[0].start == 1 && entries[0].size == 0x1000 && !entries[0].isActive)
        #expect(entries[1].isActive && entries[1].mbrType == 0 && entries[1].size == 1)
    }

    @Test func noSignatureNoEntries() {
        #expect(MBRTable.parse([UInt8](repeating: 0xEE, count: 512)).isEmpty)
        #expect(MBRTable.parse([]).isEmpty)
    }

    @Test func missingFileIsNamed() {
        let error = #expect(throws: BlkidError.self) { try MBRTable.read("/nonexistent/disk.img") }
        #expect(error?.description.contains("/nonexistent/disk.img") == true)
    }
}
