import ArchiveKit
@testable import PackageKit
import PackageFixtures
import Testing

/// The package most Debian tests read: alternatives, qualifiers, versioned provides, a setuid binary, a
/// symlink and a conffile.
func betaDebFixture(compression: DebFixture.Compression) -> DebFixture {
    DebFixture(
        name: "beta", version: "1:2.0-3", architecture: "amd64",
        fields: [
            ("Pre-Depends", "dpkg (>= 1.19)"),
            ("Depends", "libc6 (>= 2.36), mawk | gawk:any (>> 5.0),\n debconf (>= 0.5) | debconf-2.0"),
            ("Provides", "awk, beta-tool (= 2.0)"),
        ],
        files: [
            ("/usr/bin/beta", "beta binary\n", 0o755),
            ("/usr/sbin/beta-su", "su\n", 0o4755),
            ("/etc/beta.conf", "key=value\n", 0o644),
        ],
        symlinks: [("/usr/bin/beta-link", "beta")],
        conffiles: ["/etc/beta.conf"],
        compression: compression)
}

@Suite struct DebianPackageTests {
    @Test(arguments: [(DebFixture.Compression.gzip, PackageCompression.gzip), (.xz, .xz), (.zstd, .zstd), (.none, .none)])
    func readsControlAndData(_ compression: DebFixture.Compression, _ expected: PackageCompression) throws {
        let scratch = try Scratch()
        let path = try betaDebFixture(compression: compression).build(in: scratch)
        let package = try DebianPackage(path: path)

        #expect(package.dataCompression == expected)
        #expect(package.controlCompression == expected)
        #expect(package.dataMember == "data.tar" + ["none": "", "gzip": ".gz", "xz": ".xz", "zstd": ".zst"][compression.rawValue, default: "?"])
        let metadata = package.metadata
        #expect(metadata.format == .deb)
        #expect(metadata.name == "beta")
        #expect(metadata.version == PackageVersion(epoch: 1, version: "2.0", release: "3", format: .deb))
        #expect(metadata.architecture == "amd64")
        #expect(metadata.description == "beta_1:2.0-3_amd64")

        #expect(metadata.requirements.map(\.description) == [
            "dpkg (>= 1.19)", "libc6 (>= 2.36)", "mawk | gawk:any (>> 5.0)", "debconf (>= 0.5) | debconf-2.0",
        ])
        #expect(metadata.requirements.map(\.kind) == [.preDepends, .depends, .depends, .depends])
        let gawk = metadata.requirements[2].alternatives[1]
        #expect(gawk.name == "gawk" && gawk.architectureQualifier == "any")
        #expect(gawk.constraint == VersionConstraint(.greater, PackageVersion(parsing: "5.0", format: .deb)))
        #expect(metadata.provides == [
            PackageProvide(name: "awk"), PackageProvide(name: "beta-tool", version: PackageVersion(parsing: "2.0", format: .deb)),
        ])

        #expect(package.control["Package"] == "beta")
        #expect(package.control.text.hasPrefix("Package: beta\nVersion: 1:2.0-3\n"))
        #expect(package.control.text.contains(" debconf (>= 0.5) | debconf-2.0\n"))
        #expect(package.control["Description"] == "beta test package\nA package built by the PackageKit tests.")
        #expect(package.conffiles == ["/etc/beta.conf"])
        let sums = try #require(package.md5sums)
        #expect(sums.contains("  usr/bin/beta\n"))
        #expect(package.controlFiles.keys.sorted() == ["conffiles", "control", "md5sums"])

        let entries = try payloadEntries(.deb(package))
        let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.entry.path, $0) })
        #expect(!byPath.keys.contains("/"))
        #expect(byPath["/usr/bin"]?.entry.kind == .directory)
        #expect(byPath["/usr/bin/beta"]?.data == Array("beta binary\n".utf8))
        #expect(byPath["/usr/bin/beta"]?.entry.permissions == 0o755)
        #expect(byPath["/usr/sbin/beta-su"]?.entry.mode == 0o104755)
        #expect(byPath["/usr/bin/beta-link"]?.entry.kind == .symlink)
        #expect(byPath["/usr/bin/beta-link"]?.entry.symlinkTarget == "beta")
        #expect(byPath["/etc/beta.conf"]?.entry.size == 10)
        for (entry, _) in entries {
            #expect(entry.userName == "root" && entry.groupName == "root" && entry.uid == 0, "\(entry.path)")
            #expect(entry.path.hasPrefix("/") && !entry.path.hasSuffix("/"), "\(entry.path)")
        }
    }

    @Test func hardLinksKeepTheTarConvention() throws {
        let scratch = try Scratch()
        let path = try DebFixture(name: "linked", files: [("/usr/bin/one", "same body\n", 0o755)],
                                  hardlinks: [("/usr/bin/two", "/usr/bin/one")]).build(in: scratch)
        let entries = try payloadEntries(.deb(try DebianPackage(path: path))).filter { $0.entry.kind == .regular }
        #expect(entries.map(\.entry.path) == ["/usr/bin/one", "/usr/bin/two"])
        // tar: the first link carries the data, the later ones name it and carry none.
        #expect(entries[0].entry.hardlinkTarget == nil && entries[0].data == Array("same body\n".utf8))
        #expect(entries[1].entry.hardlinkTarget == "/usr/bin/one" && entries[1].data.isEmpty && entries[1].entry.size == 0)
    }

    @Test func openedThroughTheFormatNeutralArchive() throws {
        let scratch = try Scratch()
        let path = try DebFixture(name: "plain", architecture: "all", compression: .gzip).build(in: scratch)
        let archive = try PackageArchive.open(path: path)
        #expect(archive.format == .deb)
        #expect(archive.path == path)
        #expect(archive.metadata.requirements.isEmpty)
        #expect(try payloadEntries(archive).map(\.entry.path) == ["/usr", "/usr/share", "/usr/share/doc",
                                                                   "/usr/share/doc/plain", "/usr/share/doc/plain/README"])
    }
}
