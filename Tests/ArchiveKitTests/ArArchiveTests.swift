import ArchiveKit
import Testing

/// The `ar` container (a `.deb`'s) read through libarchive.
@Suite struct ArArchiveTests {
    /// An ar archive laid out as dpkg-deb writes it: names padded to 16 bytes, data padded to even lengths.
    private func debLikeArchive(_ members: [(String, [UInt8])]) -> [UInt8] {
        var bytes = Array("!<arch>\n".utf8)
        for (name, data) in members {
            func field(_ text: String, _ width: Int) -> [UInt8] {
                Array(text.utf8) + [UInt8](repeating: 0x20, count: width - text.utf8.count)
            }
            bytes += field(name, 16) + field("0", 12) + field("0", 6) + field("0", 6) + field("100644", 8)
                + field(String(data.count), 10) + [0x60, 0x0A] + data
            if data.count % 2 == 1 { bytes.append(0x0A) }
        }
        return bytes
    }

    @Test func readsMembersInOrderWithTheirData() throws {
        let archive = debLikeArchive([("debian-binary", Array("2.0\n".utf8)), ("control.tar.gz", [1, 2, 3]),
                                      ("data.tar.xz", Array(repeating: 7, count: 5000))])
        let reader = try ArchiveReader(bytes: archive, name: "x.deb", mode: .archive([.ar]))
        let members = try readAll(reader)
        #expect(members.map(\.entry.path) == ["debian-binary", "control.tar.gz", "data.tar.xz"])
        #expect(members.map(\.entry.kind) == [.regular, .regular, .regular])
        #expect(members[0].data == Array("2.0\n".utf8))
        #expect(members[1].data == [1, 2, 3])
        #expect(members[2].data.count == 5000)
        #expect(reader.format == .ar)
    }

    @Test func writtenArchiveReadsBack() throws {
        let sink = MemorySink()
        let writer = try ArchiveWriter(sink: sink, name: "written.a", format: .ar)
        try writer.write(.file("first", size: 3), data: [1, 2, 3])
        try writer.write(.file("second", size: 0), data: [])
        try writer.close()
        let members = try readAll(try ArchiveReader(bytes: sink.bytes, name: "written.a", mode: .archive([.ar])))
        #expect(members.map(\.entry.path) == ["first", "second"])
        #expect(members[0].data == [1, 2, 3])
    }

    @Test func arIsNotReadUnlessAsked() throws {
        let archive = debLikeArchive([("debian-binary", Array("2.0\n".utf8))])
        #expect(throws: ArchiveError.self) {
            let reader = try ArchiveReader(bytes: archive, name: "x.deb")
            _ = try reader.next()
        }
    }
}
