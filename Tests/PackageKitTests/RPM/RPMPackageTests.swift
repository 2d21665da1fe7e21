import ArchiveKit
@testable import PackageKit
import PackageFixtures
import Testing

/// The package most RPM tests read: files of several kinds and owners, a setuid binary, a symlink, a config
/// file, and requirements of each kind.
func alphaFixture(payload: RPMFixture.Payload) -> RPMFixture {
    RPMFixture(
        name: "alpha", version: "1.2.3", release: "4", arch: "x86_64",
        requires: ["beta >= 1.0", "/bin/sh", "libc.so.6()(64bit)"],
        provides: ["alpha-tool = 1.2"],
        files: [
            .init(path: "/usr/bin/alpha", content: "hello", attributes: "%attr(0755,root,root)"),
            .init(path: "/usr/sbin/alpha-su", content: "su", attributes: "%attr(4755,root,root)"),
            .init(path: "/etc/alpha.conf", content: "key=value", attributes: "%config(noreplace) %attr(0640,root,daemon)"),
            .init(path: "/var/lib/alpha/state", content: "0", attributes: "%attr(0600,daemon,daemon)"),
        ],
        symlinks: [("/usr/bin/alpha-link", "alpha")],
        payload: payload)
}

/// Every payload entry with its data.
func payloadEntries(_ archive: PackageArchive) throws -> [(entry: PackagePayloadEntry, data: [UInt8])] {
    let reader = try archive.payload()
    var result: [(PackagePayloadEntry, [UInt8])] = []
    while let entry = try reader.next() { result.append((entry, try reader.readAll())) }
    return result
}

@Suite struct RPMPackageTests {
    @Test(arguments: [(RPMFixture.Payload.gzip, PackageCompression.gzip), (.xz, .xz), (.zstd, .zstd),
                      (.bzip2, .bzip2), (.lzma, .lzma), (.none, .none)])
    func readsHeaderAndPayload(_ payload: RPMFixture.Payload, _ compression: PackageCompression) throws {
        let scratch = try Scratch()
        let path = try alphaFixture(payload: payload).build(in: scratch)
        let package = try RPMPackage(path: path)

        #expect(package.payloadCompression == compression)
        let metadata = package.metadata
        #expect(metadata.format == .rpm)
        #expect(metadata.name == "alpha")
        #expect(metadata.version == PackageVersion(epoch: 0, version: "1.2.3", release: "4", format: .rpm))
        #expect(metadata.architecture == "x86_64")
        #expect(metadata.description == "alpha-1.2.3-4.x86_64")

        let provides = metadata.provides.map(\.description)
        #expect(provides.contains("alpha-tool = 1.2"))
        #expect(provides.contains("alpha = 1.2.3-4"))
        #expect(provides.contains("alpha(x86-64) = 1.2.3-4"))

        let requirements = metadata.requirements.map(\.description)
        #expect(requirements.contains("beta >= 1.0"))
        #expect(requirements.contains("/bin/sh"))
        #expect(requirements.contains("libc.so.6()(64bit)"))
        let rpmlib = metadata.requirements.filter(\.isRPMLibFeature)
        #expect(!rpmlib.isEmpty)
        #expect(rpmlib.allSatisfy { $0.alternatives[0].name.hasPrefix("rpmlib(") })
        #expect(metadata.requirements.filter { !$0.isRPMLibFeature }.count == 3)
        let beta = try #require(metadata.requirements.first { $0.alternatives[0].name == "beta" })
        #expect(beta.alternatives[0].constraint == VersionConstraint(.greaterOrEqual, PackageVersion(parsing: "1.0", format: .rpm)))

        let files = Dictionary(uniqueKeysWithValues: package.files.map { ($0.path, $0) })
        #expect(Set(files.keys) == ["/usr/bin/alpha", "/usr/sbin/alpha-su", "/etc/alpha.conf", "/var/lib/alpha/state",
                                    "/usr/bin/alpha-link"])
        #expect(metadata.files.sorted() == files.keys.sorted())
        let setuid = try #require(files["/usr/sbin/alpha-su"])
        #expect(setuid.kind == .regular && setuid.permissions == 0o4755)
        #expect(setuid.mode == 0o104755)
        #expect(files["/usr/bin/alpha"]?.size == 6)
        let link = try #require(files["/usr/bin/alpha-link"])
        #expect(link.kind == .symlink && link.linkTarget == "alpha")
        let config = try #require(files["/etc/alpha.conf"])
        #expect(config.isConfig && config.userName == "root" && config.groupName == "daemon" && config.permissions == 0o640)
        #expect(files["/var/lib/alpha/state"]?.userName == "daemon")

        let entries = try payloadEntries(.rpm(package))
        #expect(Set(entries.map(\.entry.path)) == Set(files.keys))
        for (entry, data) in entries {
            let record = try #require(files[entry.path])
            #expect(entry.kind == record.kind, "\(entry.path)")
            #expect(entry.permissions == record.permissions, "\(entry.path)")
            #expect(entry.userName == record.userName && entry.groupName == record.groupName, "\(entry.path)")
            #expect(entry.size == Int64(data.count), "\(entry.path)")
            if entry.kind == .regular { #expect(Int64(data.count) == record.size, "\(entry.path)") }
        }
        let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.entry.path, $0) })
        #expect(byPath["/usr/bin/alpha"]?.data == Array("hello\n".utf8))
        #expect(byPath["/usr/bin/alpha-link"]?.entry.symlinkTarget == "alpha")
        #expect(byPath["/usr/sbin/alpha-su"]?.entry.mode == 0o104755)
        #expect(byPath["/var/lib/alpha/state"]?.entry.groupName == "daemon")
        #expect(byPath["/usr/bin/alpha"]?.entry.rootArchiveEntry.path == "usr/bin/alpha")
    }

    @Test func hardLinksKeepTheCpioConvention() throws {
        let scratch = try Scratch()
        let path = try RPMFixture(name: "linked", files: [.init(path: "/usr/bin/one", content: "same body")],
                                  hardlinks: [("/usr/bin/two", "/usr/bin/one")]).build(in: scratch)
        let entries = try payloadEntries(.rpm(try RPMPackage(path: path)))
        #expect(entries.map(\.entry.path) == ["/usr/bin/one", "/usr/bin/two"])
        // newc: the data travels with the last link, which names the first.
        #expect(entries[0].entry.hardlinkTarget == nil && entries[0].data.isEmpty)
        #expect(entries[1].entry.hardlinkTarget == "/usr/bin/one")
        #expect(entries[1].data == Array("same body\n".utf8))
        #expect(entries[1].entry.rootArchiveEntry.hardlinkTarget == "usr/bin/one")
    }

    @Test func noarchPackageAndSkippedData() throws {
        let scratch = try Scratch()
        let path = try RPMFixture(name: "docs", epoch: 2, arch: "noarch").build(in: scratch)
        let archive = try PackageArchive.open(path: path)
        #expect(archive.format == .rpm)
        #expect(archive.metadata.architecture == "noarch")
        #expect(archive.metadata.version == PackageVersion(epoch: 2, version: "1.0", release: "1", format: .rpm))
        #expect(archive.description == "docs-2:1.0-1.noarch")
        let reader = try archive.payload()
        var paths: [String] = []
        // Data not read is skipped by the next header read.
        while let entry = try reader.next() { paths.append(entry.path) }
        #expect(paths == ["/usr/share/docs/README"])
        #expect(try reader.next() == nil)
    }

    @Test func readerIsAByteSourceOverTheCurrentEntry() throws {
        let scratch = try Scratch()
        let path = try alphaFixture(payload: .gzip).build(in: scratch)
        let reader = try RPMPackage(path: path).payload()
        while let entry = try reader.next(), entry.path != "/usr/bin/alpha" { try reader.skipData() }
        #expect(reader.current?.path == "/usr/bin/alpha")
        let sink = MemorySink()
        var buffer = [UInt8](repeating: 0, count: 2)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if count == 0 { break }
            try buffer[0 ..< count].withUnsafeBytes { try sink.write($0) }
        }
        #expect(sink.bytes == Array("hello\n".utf8))
        #expect(throws: PackageError.entryTooLarge(path: path, entry: "/usr/sbin/alpha-su", limit: 1)) {
            while let entry = try reader.next(), entry.path != "/usr/sbin/alpha-su" {}
            _ = try reader.readAll(limit: 1)
        }
    }
}
