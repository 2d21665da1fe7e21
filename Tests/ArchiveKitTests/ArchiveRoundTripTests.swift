import ArchiveKit
import Foundation
import Testing

/// Reads every entry with its data, so tests compare what came out with what went in.
func readAll(_ reader: ArchiveReader) throws -> [(entry: ArchiveEntry, data: [UInt8])] {
    var result: [(ArchiveEntry, [UInt8])] = []
    while let entry = try reader.next() {
        result.append((entry, try reader.readAll()))
    }
    return result
}

let selinuxLabel = ExtendedAttribute(name: "security.selinux", string: "system_u:object_r:bin_t:s0\0")
let longName = "usr/share/" + String(repeating: "very-long-directory-name/", count: 8) + "file-with-a-long-name.txt"

/// A tree with one of each kind of entry the µOS contains.
func sampleEntries() -> [(ArchiveEntry, [UInt8])] {
    let time = ArchiveTime(seconds: 1_700_000_000, nanoseconds: 0)
    var hostname = ArchiveEntry.file("etc/hostname", size: 0, mtime: time)
    hostname.xattrs = [selinuxLabel]
    var first = ArchiveEntry.file("usr/share/hl-a", size: 0, permissions: 0o640, uid: 7, gid: 8, mtime: time)
    first.inode = 4242
    first.linkCount = 2
    var second = first
    second.path = "usr/share/hl-b"
    second.hardlinkTarget = "usr/share/hl-a"
    var console = ArchiveEntry(path: "dev/console", kind: .characterDevice, permissions: 0o600, mtime: time,
                               deviceMajor: 5, deviceMinor: 1)
    console.linkCount = 1
    return [
        (.directory("etc", mtime: time), []),
        (hostname, Array("emts\n".utf8)),
        (.directory("usr", mtime: time), []),
        (.directory("usr/share", mtime: time), []),
        (first, Array("linked body".utf8)),
        (second, []),
        (.symlink("bin", target: "usr/bin", mtime: time), []),
        (.file(longName, size: 0, permissions: 0o4755, uid: 1000, gid: 1000, mtime: time), Array(repeating: 0x41, count: 70_000)),
        (.directory("dev", mtime: time), []),
        (console, []),
    ]
}

/// Writes the sample tree, resolving hard links the way the format expects.
func writeSample(format: ArchiveFormat, filter: ArchiveFilter = .none, to sink: MemorySink) throws {
    let writer = try ArchiveWriter(sink: sink, name: "sample", format: format, filter: filter)
    for (entry, data) in sampleEntries() {
        var entry = entry
        if entry.hardlinkTarget != nil { entry.size = 0 }
        if format == .cpioNewc, entry.hardlinkTarget != nil {
            // newc keeps the body with the last link of a set.
            entry.size = Int64("linked body".utf8.count)
            try writer.write(entry, data: Array("linked body".utf8))
        } else if format == .cpioNewc, entry.linkCount > 1 {
            entry.size = 0
            try writer.writeHeader(entry)
        } else {
            try writer.write(entry, data: data)
        }
    }
    try writer.close()
}

@Suite struct ArchiveRoundTripTests {
    /// Names beyond ASCII, as Debian's ca-certificates ships one: in the "C" locale libarchive could not convert
    /// them and its newc writer crashed (strlen of a NULL name); they must come back byte for byte.
    @Test(arguments: [ArchiveFormat.cpioNewc, .tarPax, .tarGNU, .tarUstar])
    func namesBeyondASCIISurvive(format: ArchiveFormat) throws {
        let certificate = "usr/share/ca-certificates/mozilla/NetLock_Arany_=Class_Gold=_Főtanúsítvány.crt"
        let time = ArchiveTime(seconds: 1_700_000_000)
        let entries: [(ArchiveEntry, [UInt8])] = [
            (.file(certificate, size: 0, mtime: time), Array("cert\n".utf8)),
            (.symlink("etc/ssl/certs/Főtanúsítvány.pem", target: "/" + certificate, mtime: time), []),
            (.directory("srv/データ", mtime: time), []),
        ]
        let sink = MemorySink()
        let writer = try ArchiveWriter(sink: sink, name: "names.\(format.rawValue)", format: format)
        for (entry, data) in entries {
            var header = entry
            header.size = Int64(data.count)
            try writer.writeHeader(header)
            if !data.isEmpty { try data.withUnsafeBytes { try writer.write($0) } }
        }
        try writer.close()
        let back = try readAll(try ArchiveReader(bytes: sink.bytes, name: "names.\(format.rawValue)"))
        #expect(back.map(\.entry.path) == entries.map(\.0.path))
        #expect(back[1].entry.symlinkTarget == "/" + certificate)
        #expect(back[0].data == Array("cert\n".utf8))
    }

    @Test(arguments: [ArchiveFormat.cpioNewc, .tarPax])
    func everyEntrySurvives(format: ArchiveFormat) throws {
        let sink = MemorySink()
        try writeSample(format: format, to: sink)
        let reader = try ArchiveReader(bytes: sink.bytes, name: "sample.\(format.rawValue)")
        let back = try readAll(reader)
        #expect(reader.format == format)
        let paths = back.map(\.entry.path)
        #expect(paths == sampleEntries().map(\.0.path), "no entry may be dropped and the order is kept")

        let byPath = Dictionary(uniqueKeysWithValues: back.map { ($0.entry.path, $0) })
        #expect(byPath["bin"]?.entry.kind == .symlink)
        #expect(byPath["bin"]?.entry.symlinkTarget == "usr/bin")
        #expect(byPath["usr"]?.entry.kind == .directory)
        #expect(byPath["dev/console"]?.entry.kind == .characterDevice)
        #expect(byPath["dev/console"]?.entry.deviceMajor == 5)
        #expect(byPath["dev/console"]?.entry.deviceMinor == 1)
        #expect(byPath[longName]?.data.count == 70_000)
        #expect(byPath[longName]?.entry.permissions == 0o4755)
        #expect(byPath[longName]?.entry.uid == 1000)
        #expect(byPath["etc/hostname"]?.data == Array("emts\n".utf8))
        #expect(byPath["etc/hostname"]?.entry.mtime == ArchiveTime(seconds: 1_700_000_000))

        // The hard link pair: the second names the first, and the body is there exactly once.
        let linked = back.filter { $0.entry.path.hasPrefix("usr/share/hl-") }
        #expect(linked.count == 2)
        #expect(linked[1].entry.hardlinkTarget == "usr/share/hl-a")
        #expect(linked.map(\.data).joined().count == "linked body".utf8.count)
        #expect(linked.allSatisfy { $0.entry.permissions == 0o640 && $0.entry.uid == 7 && $0.entry.gid == 8 })

        if format.storesXattrs {
            #expect(byPath["etc/hostname"]?.entry.xattrs == [selinuxLabel])
        }
    }

    @Test(arguments: ArchiveFilter.allCases)
    func filtersRoundTripAndAreDetected(filter: ArchiveFilter) throws {
        let sink = MemorySink()
        try writeSample(format: .cpioNewc, filter: filter, to: sink)
        if filter != .none {
            #expect(ArchiveFilter.detect(magic: sink.bytes) == filter)
        }
        let reader = try ArchiveReader(bytes: sink.bytes, name: "sample.cpio.\(filter)")
        let back = try readAll(reader)
        #expect(back.count == sampleEntries().count)
        #expect(reader.filters == (filter == .none ? [] : [filter]))
    }

    @Test func xattrsSurviveATarInsideACpio() throws {
        // The µOS shape: a pax tar (with SELinux labels) gzip'd and nested in a cpio, read back as a stream.
        let inner = MemorySink()
        try writeSample(format: .tarPax, filter: .gzip, to: inner)
        let outer = MemorySink()
        let writer = try ArchiveWriter(sink: outer, name: "initramfs", format: .cpioNewc, filter: .zstd,
                                       options: [.level(3, for: .zstd)])
        try writer.write(.file("init", size: 0, permissions: 0o755), data: Array("#!/bin/sh\n".utf8))
        try writer.write(.file("rootfs.tar.gz", size: 0), data: inner.bytes)
        try writer.close()

        let reader = try ArchiveReader(bytes: outer.bytes, name: "initramfs")
        var nested: [ArchiveEntry] = []
        while let entry = try reader.next() {
            guard entry.path == "rootfs.tar.gz" else { continue }
            let tar = try ArchiveReader(source: reader, name: "initramfs:/rootfs.tar.gz")
            while let item = try tar.next() { nested.append(item) }
            #expect(tar.filters == [.gzip])
        }
        #expect(nested.map(\.path) == sampleEntries().map(\.0.path))
        #expect(nested.first { $0.path == "etc/hostname" }?.xattrs == [selinuxLabel])
    }

    @Test func rawModeDecompressesASingleStream() throws {
        let payload = Array((0 ..< 200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for filter in [ArchiveFilter.gzip, .xz, .zstd] {
            let sink = MemorySink()
            let writer = try ArchiveWriter(sink: sink, name: "raw", format: .cpioNewc, filter: filter)
            try writer.write(.file("blob", size: 0), data: payload)
            try writer.close()
            let reader = try ArchiveReader(bytes: sink.bytes, name: "blob", mode: .raw)
            #expect(try reader.next() != nil)
            let data = try reader.readAll(limit: 1 << 24)
            // Raw mode yields the decompressed cpio stream; the payload sits inside it.
            #expect(data.count > payload.count)
            #expect(reader.filters == [filter])
        }
    }

    @Test func externalCpioReadsOurOutput() throws {
        let sink = MemorySink()
        try writeSample(format: .cpioNewc, to: sink)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archivekit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("sample.cpio")
        try Data(sink.bytes).write(to: file)
        let (status, listing) = try runTool("/usr/bin/cpio", ["-it", "--quiet", "-F", file.path])
        #expect(status == 0)
        #expect(listing.split(separator: "\n").map(String.init) == sampleEntries().map(\.0.path))
    }
}

/// Runs an external tool the tests cross-check with; returns its exit status and standard output.
func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}
