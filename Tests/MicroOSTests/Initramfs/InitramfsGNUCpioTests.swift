import ArchiveKit
import Foundation
import MicroOS
import Testing

/// Cross-checks against what GNU cpio and the compression tools write, as dracut and initramfs-tools do.
@Suite struct InitramfsGNUCpioTests {
    typealias Fixture = InitramfsFixture

    /// A tree with directories, a symlink and a hard-link pair, archived by GNU cpio in sorted order.
    func gnuArchive(_ files: [String: [UInt8]], links: [(String, String)] = [], symlinks: [(String, String)] = [],
                    in scratch: InitramfsScratch) throws -> (archive: [UInt8], names: [String]) {
        let tree = scratch.path("tree-\(UUID().uuidString)")
        for (name, data) in files {
            let path = tree + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(data).write(to: URL(fileURLWithPath: path))
        }
        for (link, target) in links { try FileManager.default.linkItem(atPath: tree + "/" + target, toPath: tree + "/" + link) }
        for (link, target) in symlinks { try FileManager.default.createSymbolicLink(atPath: tree + "/" + link, withDestinationPath: target) }
        let archive = try Fixture.run(["sh", "-c", "find . | LC_ALL=C sort | cpio --quiet -o -H newc"], directory: tree, in: scratch)
        let listing = try Fixture.run(["cpio", "--quiet", "-t"], input: archive, in: scratch)
        let names = String(decoding: listing, as: UTF8.self).split(separator: "\n").map(String.init)
        return (archive, names)
    }

    @Test func dracutStyleEarlyCpioThenCompressedMain() throws {
        for filter in [ArchiveFilter.gzip, .zstd, .xz] {
            let scratch = try InitramfsScratch()
            let ucode = Fixture.payload(3_000, seed: 11)
            let early = try gnuArchive(["early_cpio": Array("1\n".utf8), "kernel/x86/microcode/GenuineIntel.bin": ucode],
                                       in: scratch)
            #expect(early.archive.count % 512 == 0)
            let busybox = Fixture.payload(150_000, seed: 12)
            let main = try gnuArchive(["bin/busybox": busybox, "init": Array("#!/bin/sh\n".utf8),
                                       "etc/hostname": Array("emts\n".utf8)],
                                      links: [("bin/sh", "bin/busybox")], symlinks: [("sbin", "bin")], in: scratch)
            let compressed = try Fixture.compress(main.archive, with: filter, in: scratch)
            let path = try scratch.write("initrd.img", early.archive + compressed)

            let (entries, layout) = try Fixture.read(path)
            #expect(entries.map { Initramfs.normalizedName($0.item.entry.path) } == (early.names + main.names).map(Initramfs.normalizedName))
            #expect(entries.first { $0.item.entry.path.hasSuffix("GenuineIntel.bin") }?.data == ucode)
            // GNU cpio sends a hard-link set's data with its last member.
            let links = entries.filter { $0.item.entry.path == "bin/busybox" || $0.item.entry.path == "bin/sh" }
            #expect(links.count == 2)
            #expect(links.map(\.data).contains(busybox))
            #expect(links.contains { $0.item.entry.hardlinkTarget != nil })
            #expect(entries.first { $0.item.entry.path == "sbin" }?.item.entry.symlinkTarget == "bin")

            // The plain segment ends after its TRAILER!!! header; GNU cpio's block padding is padding.
            let trailerEnd = try Self.newcTrailerEnd(early.archive)
            #expect(layout.segments.count == 2)
            #expect(layout.segments[0].length == trailerEnd)
            #expect(layout.segments[0].paddingAfter == Int64(early.archive.count) - trailerEnd)
            #expect(layout.segments[1].offset == Int64(early.archive.count))
            #expect(layout.segments[1].length == Int64(compressed.count))
            #expect(layout.segments[1].compression == filter)
            #expect(layout.segments[1].uncompressedLength == Int64(main.archive.count))
            #expect(layout.tilesFile)
        }
    }

    /// Where the TRAILER!!! header of a newc archive ends (name padded to 4 bytes), found independently.
    static func newcTrailerEnd(_ archive: [UInt8]) throws -> Int64 {
        let marker = Array("TRAILER!!!".utf8)
        let index = try #require((0 ... archive.count - marker.count).last { Array(archive[$0 ..< $0 + marker.count]) == marker })
        return Int64((index + marker.count + 1 + 3) / 4 * 4)
    }

    @Test func gnuToolsAgreeWithTheEntriesReadBack() throws {
        let scratch = try InitramfsScratch()
        let files = (0 ..< 20).reduce(into: [String: [UInt8]]()) { $0["usr/share/doc/file\($0.count)"] = Fixture.payload(1_000 * $1, seed: UInt64($1)) }
        let archive = try gnuArchive(files, in: scratch)
        let path = try scratch.write("initrd.img", try Fixture.compress(archive.archive, with: .xz, in: scratch))
        let (entries, _) = try Fixture.read(path)
        for (name, data) in files {
            #expect(entries.first { $0.item.entry.path == "./" + name || $0.item.entry.path == name }?.data == data, "\(name)")
        }
    }

    /// The stand-in µOS built by testbed/build.sh (set EMTS_TESTBED to its directory).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["EMTS_TESTBED"] != nil))
    func testBedImages() throws {
        let dir = try #require(ProcessInfo.processInfo.environment["EMTS_TESTBED"])
        let rootfsSize = try #require(try FileManager.default.attributesOfItem(atPath: dir + "/rootfs.tar.gz")[.size] as? Int)
        for (name, compressions) in [("gzip", [ArchiveFilter.gzip]), ("zstd", [.zstd]), ("early", [.none, .gzip])] {
            let path = dir + "/initramfs-\(name).img"
            let found = try #require(try Initramfs.find(path: path))
            #expect(found.size == Int64(rootfsSize))
            #expect(found.segment == compressions.count - 1)
            let layout = try Initramfs.scan(path: path)
            #expect(layout.segments.map(\.compression) == compressions)
            #expect(layout.tilesFile)
        }
    }
}
