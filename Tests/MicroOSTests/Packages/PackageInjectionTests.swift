import ArchiveKit
import Foundation
@testable import MicroOS
import PackageKit
import PackageFixtures
import Testing

/// Package injection end to end on synthetic µOS images: plan (resolution, placement), rewrite (payloads
/// streamed into the nested archive), and what the rewritten tree holds.
@Suite struct PackageInjectionTests {
    /// The synthetic tree plus a dpkg database, for Debian injections.
    static func debianTree() -> [InitramfsFixture.File] {
        let status = "Package: base-files\nStatus: install ok installed\nVersion: 12.4\nArchitecture: amd64\n"
            + "Description: base\n"
        let time = MicroOSTree.time
        return MicroOSTree.files() + [
            (.directory("./var/lib", mtime: time), []),
            (.directory("./var/lib/dpkg", mtime: time), []),
            (.directory("./var/lib/dpkg/info", mtime: time), []),
            (.file("./var/lib/dpkg/status", size: Int64(status.utf8.count), mtime: time), Array(status.utf8)),
        ]
    }

    struct Injection {
        var plan: MicroOSPlan
        var manifest: MicroOSManifest
        var output: String
        var listing: MicroOSListing

        func entry(_ path: String) -> ListedEntry? { listing.nested.first { $0.path == path } }
    }

    /// Plans and writes `names` from `repository` into the µOS at `initramfs`.
    static func inject(_ names: [String], from repository: String, into initramfs: String, scratch: InitramfsScratch,
                       output: String = "out") throws -> Injection {
        let kernel = try RewriteSupport.kernel(in: scratch)
        let inputs = MicroOSInputs(kernel: kernel, initramfs: initramfs,
                                   request: EditRequest(packages: PackageRequest(directory: repository, names: names)))
        let plan = try MicroOSBuild.plan(inputs)
        let directory = try RewriteSupport.outputDirectory(scratch, output)
        let manifest = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: directory, tool: "tests")
        let image = directory + "/initramfs.img"
        return Injection(plan: plan, manifest: manifest, output: image, listing: try MicroOSListing(initramfs: image))
    }

    /// An RPM repository: `tool` needs `libtool-extra`, which needs `/bin/sh` (in the root) and `libdata`;
    /// `tool` has a setuid binary, a symlink into `/bin` and a hard link pair.
    static func rpmRepository(_ packages: Scratch, payloads: [RPMFixture.Payload] = [.gzip, .xz, .zstd]) throws -> String {
        let repository = try packages.directory("repo")
        try RPMFixture(name: "tool", requires: ["libtool-extra"],
                       files: [.init(path: "/usr/sbin/toolctl", content: "toolctl", attributes: "%attr(4755,root,root)"),
                               .init(path: "/bin/tool", content: "tool binary", attributes: "%attr(0755,root,root)")],
                       symlinks: [("/usr/bin/tool-link", "../../bin/tool")],
                       hardlinks: [("/usr/bin/tool-hard", "/bin/tool")],
                       payload: payloads[0]).build(in: packages, into: repository)
        try RPMFixture(name: "libtool-extra", requires: ["/bin/sh", "libdata"],
                       files: [.init(path: "/usr/lib64/libtool-extra.so.1", content: "elf")],
                       payload: payloads[1 % payloads.count]).build(in: packages, into: repository)
        try RPMFixture(name: "libdata", arch: "noarch", files: [.init(path: "/usr/share/libdata/table", content: "data")],
                       payload: payloads[2 % payloads.count]).build(in: packages, into: repository)
        return repository
    }

    @Test("RPM: a requires chain is injected with modes, setuid, symlinks and hard links, usrmerge-placed",
          arguments: [[RPMFixture.Payload.gzip, .xz, .zstd], [.zstd, .gzip, .xz]])
    func rpmChain(_ payloads: [RPMFixture.Payload]) throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try Self.rpmRepository(packages, payloads: payloads)
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("in.img", in: scratch)
        let result = try Self.inject(["tool"], from: repository, into: input, scratch: scratch)

        #expect(result.plan.edits.packages.packages.map(\.name) == ["libdata", "libtool-extra", "tool"])
        let toolctl = try #require(result.entry("usr/sbin/toolctl"))
        #expect(toolctl.permissions == 0o4755 && toolctl.uid == 0 && toolctl.gid == 0 && toolctl.kind == .regular)
        // /bin/tool lands in usr/bin; the bin symlink stays.
        #expect(result.entry("bin")?.kind == .symlink && result.entry("bin")?.symlinkTarget == "usr/bin")
        let tool = try #require(result.entry("usr/bin/tool"))
        #expect(tool.permissions == 0o755)
        #expect(tool.sha256 != nil)
        let hard = try #require(result.entry("usr/bin/tool-hard"))
        #expect(hard.hardlinkGroup != nil && hard.hardlinkGroup == tool.hardlinkGroup && hard.sha256 == tool.sha256)
        #expect(result.entry("usr/bin/tool-link")?.symlinkTarget == "../../bin/tool")
        #expect(result.entry("usr/lib64/libtool-extra.so.1")?.kind == .regular)
        #expect(result.entry("usr/share/libdata")?.kind == .directory)
        #expect(result.entry("usr/share/libdata/table")?.kind == .regular)
        // The root's own entries are untouched, the record lists the three packages.
        #expect(result.entry("usr/bin/su")?.permissions == 0o4755)
        let record = try #require(result.entry(String(MicroOSFacts.packagesRecord.dropFirst())))
        #expect(record.kind == .regular)
        let manifestPackages = result.manifest.plan.packages
        #expect(manifestPackages.packages.map(\.fileCount) == [1, 1, 4])
        #expect(manifestPackages.maintainerScripts.contains("not run"))
        #expect(result.plan.edits.description.contains("inject tool 1.0-1 x86_64 (rpm, 4 files)"))
    }

    @Test("Injecting again into the output changes nothing and reports each package already present")
    func idempotent() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try Self.rpmRepository(packages)
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("in.img", in: scratch)
        let first = try Self.inject(["tool", "libdata"], from: repository, into: input, scratch: scratch)
        let second = try Self.inject(["tool", "libdata"], from: repository, into: first.output, scratch: scratch,
                                     output: "again")
        #expect(second.plan.edits.packages.packages.isEmpty)
        #expect(second.plan.edits.additions.isEmpty && second.plan.edits.removals.isEmpty)
        #expect(second.plan.edits.packages.skipped.map(\.name) == ["tool", "libdata"])
        #expect(second.plan.edits.packages.skipped.allSatisfy { $0.reason.hasPrefix("already present") })
        #expect(second.listing.nested == first.listing.nested)
    }

    @Test("A missing dependency is reported by name with who needs it, and nothing is written")
    func missingDependency() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try packages.directory("repo")
        try RPMFixture(name: "needy", requires: ["libnowhere >= 2"]).build(in: packages, into: repository)
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("in.img", in: scratch)
        let output = try RewriteSupport.outputDirectory(scratch)
        do {
            _ = try Self.inject(["needy"], from: repository, into: input, scratch: scratch)
            Issue.record("the plan was made despite a missing dependency")
        } catch let error as PackageInjectionError {
            #expect(error.description.contains("libnowhere"))
            #expect(error.description.contains("needy-1.0-1.x86_64"))
        }
        #expect(RewriteSupport.contents(output).isEmpty)

        let kernel = try RewriteSupport.kernel(in: scratch)
        let allowed = MicroOSInputs(kernel: kernel, initramfs: input, request: EditRequest(
            packages: PackageRequest(directory: repository, names: ["needy"], allowMissingDependencies: true)))
        let plan = try MicroOSBuild.plan(allowed)
        #expect(plan.edits.packages.packages.map(\.name) == ["needy"])
        #expect(plan.edits.packages.warnings.contains { $0.contains("libnowhere") })
    }

    @Test("A corrupt RPM is rejected by name, and nothing is written")
    func corruptPackage() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try packages.directory("repo")
        let path = try RPMFixture(name: "broken").build(in: packages, into: repository)
        var bytes = try packages.read(path)
        bytes.removeLast(bytes.count / 3)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("in.img", in: scratch)
        let output = try RewriteSupport.outputDirectory(scratch)
        do {
            _ = try Self.inject(["broken"], from: repository, into: input, scratch: scratch)
            Issue.record("a corrupt package was accepted")
        } catch let error as PackageInjectionError {
            #expect(error.description.hasPrefix(path + ": "))
        }
        #expect(RewriteSupport.contents(output).isEmpty)
    }

    @Test("A package file where the root has one replaces it, and the plan lists it")
    func replacedFile() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try packages.directory("repo")
        try RPMFixture(name: "hostname", files: [.init(path: "/etc/hostname", content: "injected")])
            .build(in: packages, into: repository)
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("in.img", in: scratch)
        let result = try Self.inject(["hostname"], from: repository, into: input, scratch: scratch)
        #expect(result.plan.edits.packages.packages.first?.replaced == ["etc/hostname"])
        #expect(result.plan.edits.removals.contains { $0.path == "etc/hostname" && $0.reason == .replacedByPackage(name: "hostname") })
        #expect(result.listing.nested.filter { $0.path == "etc/hostname" }.count == 1)
        #expect(result.entry("etc/hostname")?.xattrs.isEmpty == true)
    }

    @Test("Debian: packages are injected and registered in dpkg's status and info files", arguments: [false, true])
    func debian(_ multiArchSame: Bool) throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try packages.directory("repo")
        try DebFixture(name: "gawk", version: "1:5.2.1-2", fields: [("Depends", "libmpfr6 (>= 4.0), base-files")],
                       files: [("/usr/bin/gawk", "gawk", 0o755), ("/sbin/gawkctl", "ctl", 0o4755)],
                       symlinks: [("/usr/bin/awk-gawk", "gawk")], hardlinks: [("/usr/bin/gawk-5.2.1", "/usr/bin/gawk")])
            .build(in: packages, into: repository)
        try DebFixture(name: "libmpfr6", version: "4.2.0-1", fields: multiArchSame ? [("Multi-Arch", "same")] : [],
                       files: [("/usr/lib/x86_64-linux-gnu/libmpfr.so.6", "elf", 0o644)], compression: .zstd)
            .build(in: packages, into: repository)
        let input = try MicroOSImage(rootfs: Self.debianTree()).write("in.img", in: scratch)
        let result = try Self.inject(["gawk"], from: repository, into: input, scratch: scratch)

        #expect(result.plan.edits.packages.packages.map(\.name) == ["libmpfr6", "gawk"])
        #expect(result.entry("usr/bin/gawk")?.permissions == 0o755)
        #expect(result.entry("usr/sbin/gawkctl")?.permissions == 0o4755)
        #expect(result.entry("sbin")?.kind == .symlink)
        #expect(result.entry("usr/bin/awk-gawk")?.symlinkTarget == "gawk")
        // The package's ./usr, ./usr/bin, ./sbin directories are the root's: not written again.
        let raw = try RewriteSupport.rawNested(result.output).entries.map { Initramfs.normalizedName($0.path) }
        #expect(raw.filter { $0 == "usr/bin" || $0 == "usr" || $0 == "sbin" || $0 == "usr/sbin" }.count == 4)
        #expect(result.entry("sbin")?.symlinkTarget == "usr/sbin")
        let gawk = try #require(result.entry("usr/bin/gawk"))
        #expect(result.entry("usr/bin/gawk-5.2.1")?.hardlinkGroup == gawk.hardlinkGroup)

        let status = try Self.nestedFile("var/lib/dpkg/status", in: result.output)
        let paragraphs = try DpkgStatusView(statusText: status).packages
        #expect(paragraphs.map(\.name) == ["base-files", "libmpfr6", "gawk"])
        #expect(status.contains("Package: gawk\nStatus: install ok installed\n"))
        let libList = multiArchSame ? "var/lib/dpkg/info/libmpfr6:amd64.list" : "var/lib/dpkg/info/libmpfr6.list"
        #expect(try Self.nestedFile(libList, in: result.output).contains("/usr/lib/x86_64-linux-gnu/libmpfr.so.6\n"))
        let list = try Self.nestedFile("var/lib/dpkg/info/gawk.list", in: result.output)
        #expect(list.hasPrefix("/.\n"))
        #expect(list.contains("/sbin/gawkctl\n"))
        #expect(try Self.nestedFile("var/lib/dpkg/info/gawk.md5sums", in: result.output).contains("usr/bin/gawk"))
        let record = try JSONDecoder().decode([InjectedPackagesRecord.Package].self,
                                              from: Data(try Self.nestedFile(String(MicroOSFacts.packagesRecord.dropFirst()), in: result.output).utf8))
        #expect(record.map(\.name) == ["libmpfr6", "gawk"])

        // Injecting again: dpkg says both are installed.
        let again = try Self.inject(["gawk", "libmpfr6"], from: repository, into: result.output, scratch: scratch, output: "again")
        #expect(again.plan.edits.isEmpty)
        #expect(again.plan.edits.packages.skipped.map(\.reason) == ["already present (1:5.2.1-2)", "already present (4.2.0-1)"])
        #expect(again.listing.nested == result.listing.nested)
    }

    /// The text of a file in the nested archive of `initramfs`.
    static func nestedFile(_ path: String, in initramfs: String) throws -> String {
        let reader = try InitramfsReader(path: initramfs)
        var text: String?
        while let item = try reader.next() {
            guard Initramfs.normalizedName(item.entry.path) == Initramfs.rootfsName else { continue }
            let tar = try ArchiveReader(source: reader.entryData(), name: "nested", mode: .archive([.tarPax]))
            while let entry = try tar.next() {
                if Initramfs.normalizedName(entry.path) == path { text = String(decoding: try tar.readAll(), as: UTF8.self) }
            }
        }
        return try #require(text)
    }
}
