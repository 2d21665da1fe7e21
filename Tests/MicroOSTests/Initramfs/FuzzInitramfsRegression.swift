import ArchiveKit
import Foundation
@testable import MicroOS
import Testing

/// Inputs fuzz/ found (FuzzInitramfs), kept as regressions.
@Suite struct FuzzInitramfsRegression {
    /// A newc header with the given name size, mode and file size, followed by `name` (NUL, padding).
    static func header(nameSize: UInt32, mode: UInt32 = 0o100644, fileSize: UInt32 = 0, name: String = "x") -> [UInt8] {
        let fields: [UInt32] = [1, mode, 0, 0, 1, 0, fileSize, 0, 0, 0, 0, nameSize, 0]
        var bytes = Array("070701".utf8)
        for field in fields { bytes += Array(String(format: "%08X", field).utf8) }
        bytes += Array(name.utf8) + [0]
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    /// oom-02d7404056ef...: a header declaring a name of hundreds of MB made libarchive allocate that much for
    /// its read-ahead before failing; a gzip bomb behind it would have filled it. Refused from the header now.
    @Test("A newc name longer than PATH_MAX is refused from its header, plain or compressed", arguments: [
        ArchiveFilter.none, .gzip,
    ])
    func oversizedName(filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let good = try InitramfsFixture.cpio([InitramfsFixture.file("init", "#!/bin/sh\n")])
        // A good archive, then one whose first header claims a 0x9550_0000-byte name.
        var bytes = good + Self.header(nameSize: 0x9550_0000) + InitramfsFixture.zeros(4096)
        if filter != .none { bytes = try InitramfsFixture.compress(bytes, with: filter, in: scratch) }
        let path = try scratch.write("long-name.img", bytes)
        let failure = try #require(InitramfsFixture.failure(reading: path))
        #expect(failure.kind == .corruptArchive)
        #expect("\(failure)".contains("2505048064-byte name"), "\(failure)")
    }

    @Test("A symlink target longer than PATH_MAX is refused from its header")
    func oversizedSymlink() throws {
        let scratch = try InitramfsScratch()
        let bytes = Self.header(nameSize: 5, mode: 0o120777, fileSize: 0x4000_0000, name: "link") + InitramfsFixture.zeros(8192)
        let path = try scratch.write("long-link.img", bytes)
        let failure = try #require(InitramfsFixture.failure(reading: path))
        #expect(failure.kind == .corruptArchive)
        #expect("\(failure)".contains("1073741824-byte target"), "\(failure)")
    }

    @Test("Names and symlink targets up to PATH_MAX still read")
    func longestAccepted() throws {
        let scratch = try InitramfsScratch()
        let name = String(repeating: "n", count: 4095)
        let target = String(repeating: "t", count: 4096)
        let bytes = try InitramfsFixture.cpio([
            InitramfsFixture.file(name, "x"),
            (ArchiveEntry.symlink("link", target: target), []),
        ])
        let path = try scratch.write("longest.img", bytes)
        let entries = try InitramfsFixture.read(path).entries
        #expect(entries.map(\.item.entry.path) == [name, "link"])
    }
}
