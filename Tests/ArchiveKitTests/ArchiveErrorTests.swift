import ArchiveKit
import Foundation
import Testing

@Suite struct ArchiveErrorTests {
    @Test func truncatedArchiveNamesTheInput() throws {
        let sink = MemorySink()
        try writeSample(format: .tarPax, filter: .gzip, to: sink)
        let cut = Array(sink.bytes.prefix(sink.bytes.count / 2))
        let error = #expect(throws: ArchiveError.self) {
            _ = try readAll(try ArchiveReader(bytes: cut, name: "cut.tar.gz"))
        }
        #expect(error?.input == "cut.tar.gz")
        #expect(error?.description.hasPrefix("cut.tar.gz: ") == true)
    }

    @Test func garbageIsNotAnArchive() throws {
        let garbage = Array("this is not an archive, just words\n".utf8) + [UInt8](repeating: 7, count: 4096)
        let error = #expect(throws: ArchiveError.self) {
            let reader = try ArchiveReader(bytes: garbage, name: "garbage.bin")
            _ = try reader.next()
        }
        #expect(error?.input == "garbage.bin")
    }

    @Test func missingFileIsAnError() {
        let error = #expect(throws: ArchiveError.self) {
            let reader = try ArchiveReader(path: "/nonexistent/emts/initrd.img")
            _ = try reader.next()
        }
        #expect(error?.input == "/nonexistent/emts/initrd.img")
    }

    @Test func shortDataIsRefusedAtTheNextHeader() throws {
        let writer = try ArchiveWriter(sink: MemorySink(), name: "short", format: .cpioNewc)
        try writer.writeHeader(.file("a", size: 10))
        try [UInt8](repeating: 1, count: 4).withUnsafeBytes { try writer.write($0) }
        #expect(throws: ArchiveError.self) { try writer.writeHeader(.file("b", size: 0)) }
    }

    @Test func excessDataIsRefused() throws {
        let writer = try ArchiveWriter(sink: MemorySink(), name: "long", format: .tarPax)
        try writer.writeHeader(.file("a", size: 2))
        #expect(throws: ArchiveError.self) {
            try [UInt8](repeating: 1, count: 3).withUnsafeBytes { try writer.write($0) }
        }
    }

    @Test func sinkFailureSurfacesAsTheSinksError() throws {
        struct DiskFull: Error {}
        final class FailingSink: ByteSink {
            func write(_ bytes: UnsafeRawBufferPointer) throws { throw DiskFull() }
        }
        #expect(throws: DiskFull.self) {
            let writer = try ArchiveWriter(sink: FailingSink(), name: "full", format: .cpioNewc)
            try writer.write(.file("big", size: 0), data: [UInt8](repeating: 0, count: 1 << 20))
            try writer.close()
        }
    }

    @Test func detectsCompressionByMagic() {
        #expect(ArchiveFilter.detect(magic: [0x1F, 0x8B, 8, 0]) == .gzip)
        #expect(ArchiveFilter.detect(magic: [0x28, 0xB5, 0x2F, 0xFD, 0]) == .zstd)
        #expect(ArchiveFilter.detect(magic: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) == .xz)
        #expect(ArchiveFilter.detect(magic: Array("070701".utf8)) == nil)
        #expect(ArchiveFilter.detect(magic: [0x1F]) == nil)
    }
}
