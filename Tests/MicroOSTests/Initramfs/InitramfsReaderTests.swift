import ArchiveKit
import Foundation
@testable import MicroOS
import Testing

@Suite struct InitramfsReaderTests {
    typealias Fixture = InitramfsFixture

    static let mainFiles: [InitramfsFixture.File] = [
        Fixture.directory("etc"),
        Fixture.file("etc/motd", "welcome to the µOS\n"),
        Fixture.file("init", "#!/bin/sh\nexec /sbin/init\n", permissions: 0o755),
        (.symlink("bin", target: "usr/bin"), []),
        (.file("usr/lib/big.bin", size: 0), Fixture.payload(300_000)),
    ]

    static let earlyFiles: [InitramfsFixture.File] = [
        Fixture.directory("kernel"),
        Fixture.directory("kernel/x86"),
        Fixture.directory("kernel/x86/microcode"),
        (.file("kernel/x86/microcode/GenuineIntel.bin", size: 0), Fixture.payload(5_000, seed: 7)),
    ]

    func expectMainFiles(_ entries: [(item: InitramfsItem, data: [UInt8])], segment: Int = 0) {
        #expect(entries.map(\.item.entry.path) == Self.mainFiles.map(\.entry.path))
        for ((item, data), expected) in zip(entries, Self.mainFiles) {
            #expect(item.segment == segment)
            #expect(item.entry.kind == expected.entry.kind)
            #expect(data == expected.data, "data of \(item.entry.path)")
        }
        #expect(entries.first { $0.item.entry.path == "bin" }?.item.entry.symlinkTarget == "usr/bin")
    }

    @Test(arguments: [ArchiveFilter.gzip, .zstd, .xz, .lz4, .bzip2])
    func singleCompressedSegment(filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let plain = try Fixture.cpio(Self.mainFiles)
        let compressed = try Fixture.cpio(Self.mainFiles, filter: filter)
        let path = try scratch.write("initrd.img", compressed)

        let (entries, layout) = try Fixture.read(path)
        expectMainFiles(entries)
        #expect(entries.allSatisfy { $0.item.compression == filter && $0.item.archive == 0 })
        #expect(layout == InitramfsLayout(fileSize: Int64(compressed.count), leadingPadding: 0, segments: [
            .init(index: 0, offset: 0, length: Int64(compressed.count), compression: filter, archiveCount: 1,
                  entryCount: Self.mainFiles.count, uncompressedLength: Int64(plain.count), paddingAfter: 0),
        ]))
        #expect(layout.tilesFile)
    }

    @Test func plainEarlySegmentPaddingThenGzip() throws {
        let scratch = try InitramfsScratch()
        let early = try Fixture.cpio(Self.earlyFiles)
        let padding = (512 - early.count % 512) % 512 + 512
        let main = try Fixture.cpio(Self.mainFiles, filter: .gzip)
        let path = try scratch.write("initrd.img", early + Fixture.zeros(padding) + main)

        let (entries, layout) = try Fixture.read(path)
        #expect(entries.prefix(4).map(\.item.segment) == [0, 0, 0, 0])
        #expect(entries[3].data == Self.earlyFiles[3].data)
        expectMainFiles(Array(entries.dropFirst(4)), segment: 1)
        #expect(layout.segments.map(\.offset) == [0, Int64(early.count + padding)])
        #expect(layout.segments.map(\.length) == [Int64(early.count), Int64(main.count)])
        #expect(layout.segments.map(\.paddingAfter) == [Int64(padding), 0])
        #expect(layout.segments.map(\.compression) == [.none, .gzip])
        #expect(layout.segments.map(\.entryCount) == [4, Self.mainFiles.count])
        #expect(layout.segments[0].uncompressedLength == Int64(early.count))
        #expect(layout.tilesFile)
    }

    /// zstd, xz and lz4 decoders fail when zeros or another stream follow them unless bounded by their framing.
    @Test func everyCompressionChainedWithAndWithoutPadding() throws {
        let scratch = try InitramfsScratch()
        let order: [ArchiveFilter] = [.gzip, .zstd, .xz, .lz4, .bzip2, .xz, .zstd, .gzip]
        let paddings = [0, 5, 0, 12, 0, 3, 0, 7]
        var bytes: [UInt8] = []
        var expected: [InitramfsLayout.Segment] = []
        for (index, filter) in order.enumerated() {
            let files = [Fixture.file("seg\(index)/name", "\(filter)"),
                         (ArchiveEntry.file("seg\(index)/data", size: 0), Fixture.payload(40_000 + index * 1_000, seed: UInt64(index)))]
            let segment = try Fixture.cpio(files, filter: filter)
            expected.append(.init(index: index, offset: Int64(bytes.count), length: Int64(segment.count), compression: filter,
                                  archiveCount: 1, entryCount: 2, uncompressedLength: Int64(try Fixture.cpio(files).count),
                                  paddingAfter: Int64(paddings[index])))
            bytes += segment + Fixture.zeros(paddings[index])
        }
        let path = try scratch.write("chain.img", bytes)

        let (entries, layout) = try Fixture.read(path)
        #expect(layout.segments == expected)
        #expect(layout.tilesFile)
        #expect(entries.count == order.count * 2)
        for (index, filter) in order.enumerated() {
            #expect(entries[index * 2].data == Array("\(filter)".utf8))
            #expect(entries[index * 2 + 1].data == Fixture.payload(40_000 + index * 1_000, seed: UInt64(index)))
        }
    }

    @Test(arguments: [ArchiveFilter.gzip, .zstd, .xz])
    func compressedStreamHoldingTwoArchives(filter: ArchiveFilter) throws {
        do {
            let scratch = try InitramfsScratch()
            let first = try Fixture.cpio(Self.earlyFiles)
            let second = try Fixture.cpio(Self.mainFiles)
            // The kernel accepts zero padding between archives inside a stream, in 4-byte units.
            let padding = (4 - first.count % 4) % 4 + 8
            let stream = try Fixture.compress(first + Fixture.zeros(padding) + second, with: filter, in: scratch)
            let path = try scratch.write("two.img", stream + Fixture.zeros(16))

            let (entries, layout) = try Fixture.read(path)
            #expect(entries.map(\.item.archive) == Array(repeating: 0, count: 4) + Array(repeating: 1, count: Self.mainFiles.count))
            expectMainFiles(Array(entries.dropFirst(4)))
            #expect(layout.segments.count == 1)
            #expect(layout.segments[0].length == Int64(stream.count), "\(filter)")
            #expect(layout.segments[0].paddingAfter == 16)
            #expect(layout.segments[0].archiveCount == 2)
            #expect(layout.segments[0].entryCount == 4 + Self.mainFiles.count)
            #expect(layout.segments[0].uncompressedLength == Int64(first.count + padding + second.count))
        }
    }

    /// Archives larger than what the stream retains for rewinding: only the bytes after TRAILER!!! are needed.
    @Test func largeArchivesBackToBackInOneStream() throws {
        let scratch = try InitramfsScratch()
        var big = [UInt8](repeating: 0x5A, count: 6 << 20)
        big.replaceSubrange(big.count - 4 ..< big.count, with: Array("tail".utf8))
        let first = try Fixture.cpio([(.file("big", size: 0), big)])
        let second = try Fixture.cpio(Self.mainFiles)
        let stream = try Fixture.compress(first + Fixture.zeros(12) + second, with: .zstd, in: scratch)
        let path = try scratch.write("large.img", stream)
        let reader = try InitramfsReader(path: path)
        var paths: [String] = []
        while let item = try reader.next() {
            paths.append(item.entry.path)
            if item.entry.path == "big" { #expect(try reader.readAll(limit: 8 << 20) == big) }
            if item.entry.path == "usr/lib/big.bin" { #expect(try reader.readAll() == Self.mainFiles[4].data) }
        }
        #expect(paths == ["big"] + Self.mainFiles.map(\.entry.path))
        #expect(reader.layout?.segments.map(\.archiveCount) == [2])
        #expect(reader.layout?.segments.first?.uncompressedLength == Int64(first.count + 12 + second.count))
    }

    @Test func laterSegmentOverridesAnEarlierFileAndBothAreSeen() throws {
        let scratch = try InitramfsScratch()
        let first = try Fixture.cpio([Fixture.directory("etc"), Fixture.file("etc/hostname", "old\n")])
        let second = try Fixture.cpio([Fixture.file("./etc/hostname", "new\n")], filter: .zstd)
        let path = try scratch.write("override.img", first + second)

        let (entries, layout) = try Fixture.read(path)
        let hostnames = entries.filter { Initramfs.normalizedName($0.item.entry.path) == "etc/hostname" }
        #expect(hostnames.map(\.item.segment) == [0, 1])
        #expect(hostnames.map(\.data) == [Array("old\n".utf8), Array("new\n".utf8)])
        #expect(layout.segments.map(\.offset) == [0, Int64(first.count)])

        let found = try #require(try Initramfs.find(path: path, name: "/etc/hostname"))
        #expect(found.segment == 1 && found.occurrences == 2 && found.size == 4 && found.compression == .zstd)
    }

    @Test func nestedRootfsTarballStreamsThroughTheEntryData() throws {
        let scratch = try InitramfsScratch()
        var passwd = ArchiveEntry.file("./etc/passwd", size: 0)
        passwd.xattrs = [ExtendedAttribute(name: "security.selinux", string: "system_u:object_r:passwd_file_t:s0\0")]
        let rootfsFiles: [InitramfsFixture.File] = [
            (.directory("./etc"), []),
            (passwd, Array("root:x:0:0:root:/root:/bin/sh\n".utf8)),
            (.file("./usr/bin/agent", size: 0, permissions: 0o755), Fixture.payload(200_000, seed: 3)),
        ]
        let rootfs = try Fixture.tar(rootfsFiles)
        let early = try Fixture.cpio(Self.earlyFiles)
        let main = try Fixture.cpio([Fixture.file("init", "#!/bin/sh\n"), (.file("./rootfs.tar.gz", size: 0), rootfs)],
                                    filter: .gzip)
        let path = try scratch.write("initrd.img", early + Fixture.zeros(512 - early.count % 512) + main)

        let reader = try InitramfsReader(path: path)
        var nested: [(ArchiveEntry, [UInt8])] = []
        while let item = try reader.next() {
            guard item.entry.path == "./rootfs.tar.gz" else { continue }
            #expect(item.segment == 1)
            let tar = try ArchiveReader(source: reader.entryData(), name: "rootfs.tar.gz", mode: .archive([.tarPax]))
            while let entry = try tar.next() { nested.append((entry, try tar.readAll())) }
            #expect(tar.filters == [.gzip])
        }
        #expect(nested.map(\.0.path) == ["./etc", "./etc/passwd", "./usr/bin/agent"])
        #expect(nested[1].0.xattrs == passwd.xattrs)
        #expect(nested[1].1 == rootfsFiles[1].data)
        #expect(nested[2].1 == rootfsFiles[2].data)
        #expect(reader.layout?.segments.count == 2)

        let found = try #require(try Initramfs.find(path: path))
        #expect(found.segment == 1 && found.archive == 0 && found.size == Int64(rootfs.count) && found.occurrences == 1)
        #expect(try Initramfs.find(path: path, name: "missing") == nil)
    }

    @Test func scanMatchesTheReaderAndTheLayoutRoundTripsThroughJSON() throws {
        let scratch = try InitramfsScratch()
        let early = try Fixture.cpio(Self.earlyFiles)
        let path = try scratch.write("initrd.img", Fixture.zeros(8) + early + Fixture.zeros(4)
                                        + Fixture.cpio(Self.mainFiles, filter: .xz) + Fixture.zeros(100))
        let layout = try Initramfs.scan(path: path)
        #expect(layout == (try Fixture.read(path)).layout)
        #expect(layout.leadingPadding == 8)
        #expect(layout.segments.map(\.offset) == [8, Int64(8 + early.count + 4)])
        #expect(layout.segments.last?.paddingAfter == 100)
        #expect(layout.tilesFile)
        let json = try JSONEncoder().encode(layout)
        #expect(try JSONDecoder().decode(InitramfsLayout.self, from: json) == layout)
        #expect(String(decoding: json, as: UTF8.self).contains("\"compression\":\"xz\""))
    }

    /// `cat a.gz b.gz`: the decoders read adjacent streams of one format as one, so they form one segment.
    @Test(arguments: [ArchiveFilter.gzip, .zstd, .xz, .lz4, .bzip2])
    func adjacentStreamsOfOneFormatFormOneSegment(filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let first = try Fixture.cpio(Self.earlyFiles, filter: filter)
        let second = try Fixture.cpio(Self.mainFiles, filter: filter)
        let path = try scratch.write("members.img", first + second + Fixture.zeros(4))
        let (entries, layout) = try Fixture.read(path)
        #expect(entries.count == 4 + Self.mainFiles.count)
        #expect(layout.segments.count == 1)
        #expect(layout.segments[0].length == Int64(first.count + second.count))
        #expect(layout.segments[0].paddingAfter == 4)
        #expect(layout.segments[0].archiveCount == 2)
    }

    /// libarchive ignores gzip trailers; the reader checks the last member's even when members are adjacent.
    @Test func gzipTrailerOfTheLastMemberIsChecked() throws {
        let scratch = try InitramfsScratch()
        var damaged = try Fixture.cpio(Self.earlyFiles, filter: .gzip) + Fixture.cpio(Self.mainFiles, filter: .gzip)
        damaged[damaged.count - 8] ^= 0xFF
        let error = try #require(Fixture.failure(reading: try scratch.write("damaged.img", damaged)))
        #expect(error.kind == .corruptCompressedStream)
        #expect(error.description.contains("gzip checksum mismatch"))
    }

    /// The kernel's own lz4 format has no end mark; zeros after it are padding, another stream a new segment.
    @Test func legacyLZ4SegmentsEndWhereTheirBlocksEnd() throws {
        let scratch = try InitramfsScratch()
        let cpio = try Fixture.cpio(Self.mainFiles)
        let legacy = try Fixture.compress(cpio, with: .lz4, legacyLZ4: true, in: scratch)
        #expect(Array(legacy.prefix(4)) == [0x02, 0x21, 0x4C, 0x18])
        let gzip = try Fixture.cpio(Self.earlyFiles, filter: .gzip)
        let path = try scratch.write("lz4.img", legacy + Fixture.zeros(12) + gzip)
        let (entries, layout) = try Fixture.read(path)
        expectMainFiles(Array(entries.prefix(Self.mainFiles.count)))
        #expect(layout.segments.map(\.length) == [Int64(legacy.count), Int64(gzip.count)])
        #expect(layout.segments.map(\.compression) == [.lz4, .gzip])
        #expect(layout.segments[0].paddingAfter == 12)

        let last = try scratch.write("lz4-last.img", gzip + legacy)
        #expect(try Initramfs.scan(path: last).segments.map(\.length) == [Int64(gzip.count), Int64(legacy.count)])
    }

    @Test func entryDataIsRefusedOnceTheReaderMovesOn() throws {
        let scratch = try InitramfsScratch()
        let path = try scratch.write("initrd.img", try Fixture.cpio(Self.mainFiles, filter: .gzip))
        let reader = try InitramfsReader(path: path)
        _ = try reader.next()
        _ = try reader.next()
        let data = reader.entryData()
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try buffer.withUnsafeMutableBytes { try data.read(into: $0) } == 8)
        _ = try reader.next()
        let error = #expect(throws: InitramfsError.self) {
            try buffer.withUnsafeMutableBytes { try data.read(into: $0) }
        }
        #expect(error?.kind == .misuse)
    }

    @Test func readAllHonoursItsLimitAndSkipDataMovesOn() throws {
        let scratch = try InitramfsScratch()
        let path = try scratch.write("initrd.img", try Fixture.cpio(Self.mainFiles, filter: .zstd))
        let reader = try InitramfsReader(path: path)
        var paths: [String] = []
        while let item = try reader.next() {
            paths.append(item.entry.path)
            if item.entry.path == "etc/motd" { try reader.skipData() }
            if item.entry.path == "usr/lib/big.bin" {
                let error = #expect(throws: InitramfsError.self) { try reader.readAll(limit: 1_000) }
                #expect(error?.kind == .entryTooLarge)
                #expect(error?.description.contains(path) == true)
                break
            }
        }
        #expect(paths == Self.mainFiles.map(\.entry.path))
    }

    @Test func crc32CombineMatchesTheChecksumOfTheConcatenation() {
        let a = Fixture.payload(10_000, seed: 1)
        let b = Fixture.payload(77_777, seed: 2)
        let whole = InitramfsCRC32.checksum(a + b)
        #expect(InitramfsCRC32.combine(InitramfsCRC32.checksum(a), InitramfsCRC32.checksum(b), lengthB: Int64(b.count)) == whole)
        #expect(InitramfsCRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(InitramfsCRC32.updateZeros(InitramfsCRC32.checksum(a), count: 300) == InitramfsCRC32.checksum(a + Fixture.zeros(300)))
    }
}
