import ArchiveKit
import Foundation
@testable import MicroOS
import Testing

/// Inputs fuzz/ found (FuzzInitramfs), kept as regressions. The check itself is ArchiveKit's (`CpioHeaderError`,
/// FuzzCpioHeaderRegression there): every cpio archive of a segment is read through it.
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

    /// fuzz/regressions/FuzzInitramfs, saved by the first runs (each once reached an allocation of 2-4 GB).
    static let savedInputs: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz/regressions/FuzzInitramfs")

    /// The five the MicroOS-only check missed: a damaged header (a non-hex digit in four, in d87f92ff a zero
    /// name size that puts the next "header" on data) that libarchive skipped past, resynchronising at a later
    /// "070701" whose name size the check, still following the old header chain, never parsed. Now the damaged
    /// header is refused where it is, before libarchive searches.
    @Test("The saved inputs the MicroOS-only check missed are refused at their damaged header", arguments: [
        ("0019865361233c0c680c4066df741b137d0e00c8", "entry 0 (at byte 0 of the uncompressed archive) is damaged: byte 107 of the header is \"x\", not a hex digit"),
        ("9787537f214f127608961c94862af78aef14e47a", "entry 0 (at byte 0 of the uncompressed archive) is damaged: byte 26 of the header is \"Z\", not a hex digit"),
        ("b2629c8d2a4a3ce1e3ae303cddffd87371c728ea", "entry 0 (at byte 0 of the uncompressed archive) is damaged: byte 33 of the header is \"t\", not a hex digit"),
        ("d87f92ff22611bffe1f74a4fe65e4907a4bb5c1f", "entry 1 (at byte 112 of the uncompressed archive) is damaged: it starts with \"00026B\", not a newc magic"),
        ("df6f1a55b36d837397ea2a5f8042ee2c898a874b", "entry 0 (at byte 0 of the uncompressed archive) is damaged: byte 27 of the header is \"&\", not a hex digit"),
    ])
    func missedBefore(hash: String, damage: String) throws {
        let path = Self.savedInputs.appendingPathComponent("oom-\(hash)").path
        let failure = try #require(InitramfsFixture.failure(reading: path))
        #expect(failure.kind == .corruptArchive && failure.path == path && failure.segment == 0, "\(failure)")
        #expect(failure.message.contains("damaged cpio archive 0: the header of cpio " + damage), "\(failure)")
    }

    @Test("Every saved FuzzInitramfs input ends in an InitramfsError")
    func everySavedInput() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.savedInputs.path).filter { $0.hasPrefix("oom-") }
        #expect(names.count >= 40)
        for name in names {
            let path = Self.savedInputs.appendingPathComponent(name).path
            let failure = InitramfsFixture.failure(reading: path)
            #expect(failure != nil, "\(name) read cleanly")
            _ = try? Initramfs.find(path: path)
        }
    }

    /// A minimal equivalent, compressed: the damaged header's skip-ahead reached a huge name only libarchive saw.
    @Test("A damaged header before a huge name is refused at the damage, plain or compressed", arguments: [
        ArchiveFilter.none, .gzip, .zstd,
    ])
    func damagedHeaderBeforeHugeName(filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        var first = Self.header(nameSize: 7, mode: 0o40755, name: "kernel")
        first[60] = UInt8(ascii: "Z")  // inside the file size field
        var bytes = first + Self.header(nameSize: 0xCCCC_CCCE) + InitramfsFixture.zeros(8192)
        if filter != .none { bytes = try InitramfsFixture.compress(bytes, with: filter, in: scratch) }
        let path = try scratch.write("damaged-then-long.img", bytes)
        let failure = try #require(InitramfsFixture.failure(reading: path))
        #expect(failure.kind == .corruptArchive, "\(failure)")
        #expect(failure.message.contains("byte 60 of the header is \"Z\", not a hex digit"), "\(failure)")
    }
}
