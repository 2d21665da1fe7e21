import Foundation
@testable import HybridISO
import Testing

@Suite struct FATVolumeTests {
    /// A FAT image with two files, placed at `offset` inside a larger file.
    func volume(in dir: String, offset: UInt64) throws -> FATVolume {
        let fat = dir + "/fat.img"
        try FATImage(label: "TESTVOL", volumeIDSeed: "t", files: [
            .init(path: "installer.yaml", source: .bytes(Array("a: 1\n".utf8))),
            .init(path: "EFI/BOOT/BOOTX64.EFI", source: .bytes([1, 2, 3])),
        ], epoch: 1_700_000_000, sizing: .fixed(4 << 20)).build(to: fat)
        let host = dir + "/disk.img"
        var bytes = [UInt8](repeating: 0xCC, count: Int(offset))
        bytes += try Data(contentsOf: URL(fileURLWithPath: fat))
        bytes += [UInt8](repeating: 0xDD, count: 4096)
        try Data(bytes).write(to: URL(fileURLWithPath: host))
        return FATVolume(path: host, offset: offset)
    }

    @Test(arguments: [UInt64(0), 1 << 20])
    func listsReadsAndReplacesFilesInPlace(offset: UInt64) throws {
        try withScratchDirectory { dir in
            let volume = try volume(in: dir, offset: offset)
            #expect(try volume.files() == ["EFI/BOOT/BOOTX64.EFI", "installer.yaml"])
            #expect(try volume.read("installer.yaml") == Array("a: 1\n".utf8))
            let before = try bytes(volume.path)
            try volume.write(Array("b: 2\nc: 3\n".utf8), to: "installer.yaml")
            try volume.write(Array("new\n".utf8), to: "logs.txt")
            #expect(try volume.read("installer.yaml") == Array("b: 2\nc: 3\n".utf8))
            #expect(try volume.contains("logs.txt"))
            let after = try bytes(volume.path)
            #expect(after.count == before.count, "edited in place")
            #expect(Array(after.prefix(Int(offset))) == Array(before.prefix(Int(offset))), "nothing before the volume changed")
            #expect(Array(after.suffix(4096)) == Array(before.suffix(4096)), "nothing after it changed")
        }
    }

    @Test func emptyVolumeListsNothingAndBadPathsAreRefused() throws {
        try withScratchDirectory { dir in
            let fat = dir + "/empty.img"
            try FATImage(label: "EMPTY", volumeIDSeed: "e", files: [], epoch: 0, sizing: .fixed(1 << 20)).build(to: fat)
            let volume = FATVolume(path: fat)
            #expect(try volume.files().isEmpty)
            #expect(throws: HybridISOError.self) { try volume.read("missing.txt") }
            for bad in ["/abs", "../up", "a:b", ""] {
                #expect(throws: HybridISOError.self, "\(bad)") { try volume.write([1], to: bad) }
            }
            #expect(throws: HybridISOError.self) { try FATVolume(path: dir + "/none.img").files() }
        }
    }
}
