import ArchiveKit
import Foundation
@testable import PackageKit
import PackageFixtures
import Testing

/// Packages whose headers lie about their payload, whose payloads reach outside the root through hard link
/// targets, or carry device nodes. Reading them gives an error naming the file and the problem (device nodes
/// are reported faithfully: refusing them is the injector's decision, tested in MicroOSTests).
@Suite struct HostilePackageTests {
    /// The offset of the INT32 value of `tag` in the header starting at `header`, if the header has it.
    static func int32Value(of tag: Int, inHeaderAt header: Int, _ bytes: [UInt8]) -> Int? {
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        let entries = be32(header + 8)
        let store = header + 16 + entries * 16
        for index in 0 ..< entries {
            let entry = header + 16 + index * 16
            if be32(entry) == tag, be32(entry + 4) == 4 { return store + be32(entry + 8) }
        }
        return nil
    }

    static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    /// Builds the alpha package, lets `damage` change its bytes, and returns the error of reading it whole.
    private func error(_ damage: (inout [UInt8], RPMLayout) throws -> Void) throws -> PackageError {
        let scratch = try Scratch()
        let original = try scratch.read(try alphaFixture(payload: .gzip).build(in: scratch))
        var bytes = original
        try damage(&bytes, RPMLayout(original))
        let path = try scratch.write("hostile.rpm", bytes)
        return namedError(reading: path) { () throws(PackageError) in try drain(try RPMPackage(path: path).payload()) }
    }

    /// Where the signature's declared uncompressed payload size (PAYLOADSIZE, or LONGARCHIVESIZE) lies.
    static func payloadSizeField(_ bytes: [UInt8]) throws -> Int {
        try #require(int32Value(of: 1007, inHeaderAt: 96, bytes) ?? int32Value(of: 271, inHeaderAt: 96, bytes),
                     "the signature declares no payload size")
    }

    @Test("The untouched package reads, and its payload unpacks to exactly the size its signature declares")
    func honestPackageReads() throws {
        let scratch = try Scratch()
        let path = try alphaFixture(payload: .xz).build(in: scratch)
        let package = try RPMPackage(path: path)
        let declared = try #require(package.declaredPayloadSize)
        let bytes = try scratch.read(path)
        #expect(Int64(Self.be32(bytes, try Self.payloadSizeField(bytes))) == declared)
        try drain(try package.payload())
    }

    @Test("A signature declaring a smaller payload than the real one stops the read as soon as it is passed")
    func payloadLargerThanDeclared() throws {
        let error = try error { bytes, _ in
            let field = try Self.payloadSizeField(bytes)
            setBigEndian32(Self.be32(bytes, field) / 2, at: field, in: &bytes)
        }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("payload: "), "\(reason)")
        #expect(reason.contains("ARCHIVESIZE"), "\(reason)")
    }

    @Test("A signature declaring a larger payload than the real one is refused at the payload's end, naming both sizes")
    func payloadSmallerThanDeclared() throws {
        var declared: UInt32 = 0
        let error = try error { bytes, _ in
            let field = try Self.payloadSizeField(bytes)
            declared = Self.be32(bytes, field) + 4096
            setBigEndian32(declared, at: field, in: &bytes)
        }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("declares \(declared)"), "\(reason)")
        #expect(reason.contains("unpacks to \(declared - 4096) bytes"), "\(reason)")
    }

    @Test("An absurd declared payload size (4 GiB) is only a bound: the package's real end still decides")
    func absurdDeclaredSize() throws {
        let error = try error { bytes, _ in setBigEndian32(.max, at: try Self.payloadSizeField(bytes), in: &bytes) }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("declares \(UInt32.max)"), "\(reason)")
    }

    @Test("Bytes after the end the signature's SIZE declares are refused, naming both ends")
    func trailingBytesAfterTheDeclaredEnd() throws {
        let error = try error { bytes, _ in bytes += [UInt8](repeating: 0x41, count: 1000) }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("the file goes on to"), "\(reason)")
    }

    @Test("A payload cut short, with SIZE lowered to match, fails while streaming and names the payload")
    func truncatedPayloadMatchingSize() throws {
        let error = try error { bytes, layout in
            let cut = (bytes.count - layout.payload) / 2
            bytes.removeLast(cut)
            let size = try #require(Self.int32Value(of: 1000, inHeaderAt: 96, bytes))
            setBigEndian32(Self.be32(bytes, size) - UInt32(cut), at: size, in: &bytes)
        }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.hasPrefix("payload: "), "\(reason)")
    }

    // MARK: Debian data.tar

    /// A .deb whose data.tar.gz is `entries` as written (libarchive keeps any path and link target given).
    static func deb(_ entries: [(ArchiveEntry, [UInt8])], in scratch: Scratch) throws -> String {
        let sink = MemorySink()
        let writer = try ArchiveWriter(sink: sink, name: "data", format: .tarGNU, filter: .gzip)
        for (entry, data) in entries { try writer.write(entry, data: data) }
        try writer.close()
        let control = "Package: hostile\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: x\n"
        return try scratch.write("hostile_1.0_amd64.deb", try ArFixture.deb(control: control, data: sink.bytes))
    }

    @Test("A data.tar hard link whose target climbs out of the root is refused, naming link and target",
          arguments: ["../../etc/passwd", "./usr/../../../etc/shadow", "usr/bin/../../../../root/.ssh/id_rsa"])
    func hardlinkTraversal(target: String) throws {
        let scratch = try Scratch()
        let path = try Self.deb([
            (.file("./usr/bin/tool", size: 4), Array("tool".utf8)),
            (ArchiveEntry(path: "./usr/bin/passwd-copy", kind: .regular, permissions: 0o644, hardlinkTarget: target,
                          linkCount: 2), []),
        ], in: scratch)
        let error = namedError(reading: path) { () throws(PackageError) in try drain(try DebianPackage(path: path).payload()) }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("/usr/bin/passwd-copy: unsafe hard link target \"\(target)\""), "\(reason)")
    }

    @Test("An absolute hard link target means the package's own path (the payload's root), never the host's")
    func absoluteHardlinkTargetStaysInThePackage() throws {
        let scratch = try Scratch()
        let path = try Self.deb([
            (ArchiveEntry(path: "./usr/bin/shadow-copy", kind: .regular, permissions: 0o644, hardlinkTarget: "/etc/shadow",
                          linkCount: 2), []),
        ], in: scratch)
        let reader = try DebianPackage(path: path).payload()
        let entry = try #require(try reader.next())
        #expect(entry.hardlinkTarget == "/etc/shadow")
        #expect(entry.rootArchiveEntry.hardlinkTarget == "etc/shadow", "root archives carry it relative to the root")
    }

    @Test("A data.tar entry whose own path climbs out is refused")
    func entryTraversal() throws {
        let scratch = try Scratch()
        let path = try Self.deb([(.file("./../../etc/cron.d/evil", size: 1), Array("x".utf8))], in: scratch)
        let error = namedError(reading: path) { () throws(PackageError) in try drain(try DebianPackage(path: path).payload()) }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("unsafe entry path \"./../../etc/cron.d/evil\""), "\(reason)")
    }

    @Test("Device nodes and fifos in a data.tar are reported as what they are, with their numbers")
    func specialFilesReportedFaithfully() throws {
        let scratch = try Scratch()
        let path = try Self.deb([
            (ArchiveEntry(path: "./dev/evil-mem", kind: .characterDevice, permissions: 0o666, deviceMajor: 1, deviceMinor: 1), []),
            (ArchiveEntry(path: "./dev/evil-sda", kind: .blockDevice, permissions: 0o666, deviceMajor: 8, deviceMinor: 0), []),
            (ArchiveEntry(path: "./run/evil-fifo", kind: .fifo, permissions: 0o600), []),
        ], in: scratch)
        let reader = try DebianPackage(path: path).payload()
        var seen: [(String, EntryKind, UInt32, UInt32)] = []
        while let entry = try reader.next() { seen.append((entry.path, entry.kind, entry.deviceMajor, entry.deviceMinor)) }
        #expect(seen.map(\.0) == ["/dev/evil-mem", "/dev/evil-sda", "/run/evil-fifo"])
        #expect(seen.map(\.1) == [.characterDevice, .blockDevice, .fifo])
        #expect(seen[0].2 == 1 && seen[0].3 == 1 && seen[1].2 == 8 && seen[1].3 == 0)
    }
}
