import ArchiveKit

/// Hand-made .deb files, for layouts dpkg-deb refuses to write.
enum ArFixture {
    /// An ar archive of `members`, as dpkg-deb lays it out.
    static func archive(_ members: [(name: String, data: [UInt8])]) -> [UInt8] {
        var bytes = Array("!<arch>\n".utf8)
        for (name, data) in members {
            func field(_ text: String, _ width: Int) -> [UInt8] {
                Array(text.utf8) + [UInt8](repeating: 0x20, count: max(0, width - text.utf8.count))
            }
            bytes += field(name, 16) + field("0", 12) + field("0", 6) + field("0", 6) + field("100644", 8)
                + field(String(data.count), 10) + [0x60, 0x0A]
            bytes += data
            if data.count % 2 == 1 { bytes.append(0x0A) }
        }
        return bytes
    }

    /// A gzip'd tar of regular files.
    static func tar(_ files: [(String, String)], filter: ArchiveFilter = .gzip) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try ArchiveWriter(sink: sink, name: "fixture", format: .tarGNU, filter: filter)
        for (path, content) in files {
            try writer.write(.file(path, size: Int64(content.utf8.count)), data: Array(content.utf8))
        }
        try writer.close()
        return sink.bytes
    }

    /// A .deb whose control file is `control` and whose data holds one file.
    static func deb(control: String, data: [UInt8]? = nil) throws -> [UInt8] {
        archive([
            ("debian-binary", Array("2.0\n".utf8)),
            ("control.tar.gz", try tar([("./control", control)])),
            ("data.tar.gz", try data ?? tar([("./usr/share/x", "x\n")])),
        ])
    }
}
