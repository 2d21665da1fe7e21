import ArchiveKit
import Foundation
import MicroOS
import Testing

@Suite struct InitramfsErrorTests {
    typealias Fixture = InitramfsFixture

    static let files: [InitramfsFixture.File] = [
        Fixture.directory("etc"),
        Fixture.file("etc/os-release", "ID=emt\n"),
        (.file("usr/lib/blob", size: 0), Fixture.payload(200_000, seed: 9)),
        Fixture.file("init", "#!/bin/sh\n", permissions: 0o755),
    ]

    /// A plain early segment first, so errors in the second segment must name a non-zero offset.
    static func earlySegment() throws -> [UInt8] {
        let early = try Fixture.cpio([Fixture.file("early/ucode.bin", "microcode")])
        return early + Fixture.zeros(512 - early.count % 512)
    }

    func expectError(_ path: String, _ kind: InitramfsError.Kind, segment: Int?, offset: Int64,
                     mentioning words: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = Fixture.failure(reading: path) else {
            Issue.record("\(path) read without error", sourceLocation: sourceLocation)
            return
        }
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.segment == segment, "\(error)", sourceLocation: sourceLocation)
        #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation)
        #expect(error.path == path, sourceLocation: sourceLocation)
        let text = error.description
        #expect(text.hasPrefix(path + ": "), "\(text)", sourceLocation: sourceLocation)
        #expect(text.contains("byte \(offset)"), "\(text)", sourceLocation: sourceLocation)
        for word in words { #expect(text.contains(word), "\(text) lacks \(word)", sourceLocation: sourceLocation) }
    }

    @Test func emptyFile() throws {
        let scratch = try InitramfsScratch()
        let path = try scratch.write("empty.img", [])
        let error = #expect(throws: InitramfsError.self) { try InitramfsReader(path: path) }
        #expect(error?.kind == .emptyFile)
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("empty file") == true)

        let zeros = try scratch.write("zeros.img", Fixture.zeros(4096))
        expectError(zeros, .emptyFile, segment: 0, offset: 0, mentioning: ["only 4096 zero bytes"])
    }

    @Test func missingFile() throws {
        let error = #expect(throws: InitramfsError.self) { try InitramfsReader(path: "/nonexistent/initrd.img") }
        #expect(error?.kind == .unreadable)
        #expect(error?.description.hasPrefix("/nonexistent/initrd.img: ") == true)
    }

    @Test func notACpioShowsTheMagicSeen() throws {
        let scratch = try InitramfsScratch()
        let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + Fixture.zeros(100)
        expectError(try scratch.write("elf.img", elf), .notACpio, segment: 0, offset: 0,
                    mentioning: ["7f 45 4c 46", "ELF", "not a cpio archive"])
    }

    @Test func oldCpioFlavoursAreNamed() throws {
        let scratch = try InitramfsScratch()
        let tree = scratch.path("tree")
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try scratch.write("tree/file", Array("content\n".utf8))
        for (format, word) in [("odc", "odc"), ("bin", "old binary")] {
            let archive = try Fixture.run(["cpio", "--quiet", "-o", "-H", format], input: Array("file\n".utf8),
                                          directory: tree, in: scratch)
            expectError(try scratch.write("\(format).img", archive), .unsupportedCpioFormat, segment: 0, offset: 0,
                        mentioning: [word, "newc"])
            // The same inside a compressed segment, after an early one.
            let early = try Self.earlySegment()
            let path = try scratch.write("\(format)-gz.img", early + Fixture.compress(archive, with: .gzip, in: scratch))
            expectError(path, .unsupportedCpioFormat, segment: 1, offset: Int64(early.count), mentioning: [word])
        }
    }

    @Test func lzmaSegmentIsNamedAsUnsupported() throws {
        let scratch = try InitramfsScratch()
        let lzma = try Fixture.run(["xz", "--format=lzma", "-c"], input: try Fixture.cpio(Self.files), in: scratch)
        let early = try Self.earlySegment()
        expectError(try scratch.write("lzma.img", early + lzma), .unsupportedCompression, segment: 1,
                    offset: Int64(early.count), mentioning: ["lzma"])
    }

    @Test func truncatedPlainSegment() throws {
        let scratch = try InitramfsScratch()
        let early = try Self.earlySegment()
        let plain = try Fixture.cpio(Self.files)
        let path = try scratch.write("cut.img", early + plain.prefix(plain.count / 2))
        expectError(path, .truncatedSegment, segment: 1, offset: Int64(early.count + plain.count / 2),
                    mentioning: ["ends inside cpio archive 0"])
    }

    @Test(arguments: [ArchiveFilter.gzip, .zstd, .xz, .lz4, .bzip2])
    func truncatedCompressedSegment(filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let early = try Self.earlySegment()
        let compressed = try Fixture.cpio(Self.files, filter: filter)
        for cut in [compressed.count * 6 / 10, compressed.count - 3] {
            let path = try scratch.write("cut-\(cut).img", early + compressed.prefix(cut))
            expectError(path, .truncatedSegment, segment: 1, offset: Int64(early.count), mentioning: ["cut off"])
        }
    }

    @Test func truncatedArchiveInsideACompleteCompressedStream() throws {
        let scratch = try InitramfsScratch()
        let plain = try Fixture.cpio(Self.files)
        let stream = try Fixture.compress(Array(plain.prefix(plain.count - 40)), with: .zstd, in: scratch)
        let error = try #require(Fixture.failure(reading: try scratch.write("cut.img", stream)))
        #expect(error.kind == .truncatedSegment)
        #expect(error.streamOffset == Int64(plain.count - 40))
        #expect(error.description.contains("decompressed stream ends inside cpio archive 0"))
    }

    @Test func corruptCompressedStreams() throws {
        let scratch = try InitramfsScratch()
        let early = try Self.earlySegment()
        // gzip: libarchive ignores the trailer, the reader checks it.
        var gzip = try Fixture.cpio(Self.files, filter: .gzip)
        gzip[gzip.count - 6] ^= 0x55
        expectError(try scratch.write("crc.img", early + gzip), .corruptCompressedStream, segment: 1,
                    offset: Int64(early.count), mentioning: ["gzip checksum mismatch"])
        // zstd with a content checksum (the CLI writes one): the decoder notices.
        var zstd = try Fixture.compress(try Fixture.cpio(Self.files), with: .zstd, in: scratch)
        zstd[zstd.count - 2] ^= 0x55
        expectError(try scratch.write("zstd.img", early + zstd), .corruptCompressedStream, segment: 1,
                    offset: Int64(early.count), mentioning: ["does not decode"])
        // xz: damage inside the compressed data.
        var xz = try Fixture.cpio(Self.files, filter: .xz)
        for index in xz.count / 2 ..< xz.count / 2 + 16 { xz[index] ^= 0xA5 }
        expectError(try scratch.write("xz.img", early + xz), .corruptCompressedStream, segment: 1,
                    offset: Int64(early.count))
    }

    @Test func trailingGarbageAfterTheLastSegment() throws {
        let scratch = try InitramfsScratch()
        let segment = try Fixture.cpio(Self.files, filter: .gzip)
        let path = try scratch.write("garbage.img", segment + Fixture.zeros(7) + Array("GARBAGE!".utf8) + Fixture.zeros(9))
        expectError(path, .trailingGarbage, segment: 1, offset: Int64(segment.count + 7),
                    mentioning: ["trailing garbage", "47 41 52 42", "17 bytes"])
    }

    @Test func junkInsideACompressedStreamAfterItsArchive() throws {
        let scratch = try InitramfsScratch()
        let plain = try Fixture.cpio(Self.files)
        let stream = try Fixture.compress(plain + Array("junk".utf8), with: .gzip, in: scratch)
        let error = try #require(Fixture.failure(reading: try scratch.write("junk.img", stream)))
        #expect(error.kind == .notACpio)
        #expect(error.segment == 0 && error.offset == 0)
        #expect(error.streamOffset == Int64(plain.count))
        #expect(error.description.contains("decompressed byte \(plain.count)"))
        #expect(error.description.contains("6a 75 6e 6b"))
    }

    @Test func compressedTarInsteadOfCpio() throws {
        let scratch = try InitramfsScratch()
        let tar = try Fixture.tar(Self.files, filter: .gzip)
        let error = try #require(Fixture.failure(reading: try scratch.write("tar.img", tar)))
        #expect(error.kind == .notACpio)
        #expect(error.streamOffset == 0)
    }

    @Test func misalignedPlainArchive() throws {
        let scratch = try InitramfsScratch()
        let path = try scratch.write("misaligned.img", Fixture.zeros(2) + (try Fixture.cpio(Self.files)))
        expectError(path, .misalignedArchive, segment: 0, offset: 2, mentioning: ["multiple of 4"])
    }

    @Test func damagedHeaderInsidePlainArchive() throws {
        let scratch = try InitramfsScratch()
        var plain = try Fixture.cpio(Self.files)
        // The second header starts right after the first entry ("etc", a directory: 110 + 4 bytes of name).
        let second = 112 + 4
        #expect(Array(plain[second ..< second + 6]) == Array("070701".utf8))
        plain.replaceSubrange(second ..< second + 6, with: Array("XXXXXX".utf8))
        let error = try #require(Fixture.failure(reading: try scratch.write("damaged.img", plain)))
        #expect(error.kind == .corruptArchive, "\(error)")
        #expect(error.segment == 0)
    }

    @Test func readerStaysFailedAfterAnError() throws {
        let scratch = try InitramfsScratch()
        let segment = try Fixture.cpio(Self.files, filter: .gzip)
        let reader = try InitramfsReader(path: try scratch.write("garbage.img", segment + Array("XYZW".utf8)))
        let first = #expect(throws: InitramfsError.self) { while try reader.next() != nil {} }
        let second = #expect(throws: InitramfsError.self) { try reader.next() }
        #expect(first == second)
        #expect(reader.layout == nil)
    }
}
