import ArchiveKit
import Foundation
@testable import MicroOS
import PackageKit
import PackageFixtures
import Testing

/// Packages that would put device nodes or fifos into the µOS: the plan refuses them by package file and entry,
/// and nothing is written. No package the µOS needs ships one (devtmpfs and udev make /dev at boot); a node
/// elsewhere in the root would give whoever can open it raw access to a disk or memory.
@Suite struct HostilePackageInjectionTests {
    /// Plans the injection of `name` from `repository` into `initramfs` and returns the error, after checking
    /// that writing the pair with a plan made without the package leaves its output directory empty too.
    func refusal(_ name: String, from repository: String, into initramfs: String,
                 scratch: InitramfsScratch) throws -> PackageInjectionError? {
        let kernel = try RewriteSupport.kernel(in: scratch)
        let out = try RewriteSupport.outputDirectory(scratch, "out")
        let inputs = MicroOSInputs(kernel: kernel, initramfs: initramfs,
                                   request: EditRequest(packages: PackageRequest(directory: repository, names: [name])))
        let error = #expect(throws: PackageInjectionError.self) {
            let plan = try MicroOSBuild.plan(inputs)
            _ = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: out, tool: "tests")
        }
        #expect(RewriteSupport.contents(out).isEmpty, "left \(RewriteSupport.contents(out))")
        return error
    }

    @Test("A .deb carrying a character device, a block device or a fifo is refused, naming the package and entry",
          arguments: [
              ("/usr/lib/evil/mem", ["/usr/bin/mknod", "-m", "666"], ["c", "1", "1"], EntryKind.characterDevice),
              ("/var/lib/evil/sda", ["/usr/bin/mknod", "-m", "666"], ["b", "8", "0"], .blockDevice),
              ("/run/evil/fifo", ["/usr/bin/mkfifo", "-m", "600"], [], .fifo),
          ])
    func debianSpecialFile(path: String, tool: [String], numbers: [String], kind: EntryKind) throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try Self.specialDeb([(path, tool)], packages: packages, numbers: numbers)
        let input = try MicroOSImage(rootfs: PackageInjectionTests.debianTree()).write("in.img", in: scratch)
        let error = try refusal("evil-nodes", from: repository, into: input, scratch: scratch)
        let file = repository + "/evil-nodes_1.0-1_amd64.deb"
        #expect(error == .specialFile(package: file, entry: path, kind: kind), "\(String(describing: error))")
        #expect(error?.description.hasPrefix("\(file): payload entry \(path) is a ") == true)
        #expect(error?.description.contains("not injected") == true)
    }

    @Test("An .rpm carrying a character device (%dev) is refused, naming the package and entry")
    func rpmDevice() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let top = try packages.directory("rpmbuild")
        let spec = try packages.write("evil.spec", Array("""
            Name: evil-dev
            Version: 1.0
            Release: 1
            Summary: a device node
            License: MIT
            BuildArch: x86_64
            AutoReqProv: no

            %description
            a device node

            %install
            mkdir -p %{buildroot}/usr/share/evil
            echo x > %{buildroot}/usr/share/evil/README

            %files
            %attr(0644,root,root) /usr/share/evil/README
            %dev(c,1,1) %attr(0666,root,root) /usr/share/evil/mem

            """.utf8))
        try runTool("/usr/bin/rpmbuild", ["-bb", "--nodeps", "--quiet", "--define", "_topdir \(top)",
                                          "--define", "__os_install_post %{nil}", "--define", "debug_package %{nil}", spec])
        let repository = try packages.directory("repo")
        let file = repository + "/evil-dev-1.0-1.x86_64.rpm"
        try FileManager.default.moveItem(atPath: top + "/RPMS/x86_64/evil-dev-1.0-1.x86_64.rpm", toPath: file)
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("in.img", in: scratch)
        let error = try refusal("evil-dev", from: repository, into: input, scratch: scratch)
        #expect(error == .specialFile(package: file, entry: "/usr/share/evil/mem", kind: .characterDevice),
                "\(String(describing: error))")
    }
}

extension HostilePackageInjectionTests {
    @Test("A payload entry below the package's own symlink chain out of the root is refused, naming the package file")
    func payloadThroughEscapingSymlink() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try packages.directory("repo")
        let file = repository + "/evil-link_1.0-1_amd64.deb"
        try Self.craftedDeb(name: "evil-link", [
            (.directory("./usr/"), []),
            (.directory("./usr/lib/"), []),
            (.symlink("./usr/lib/step", target: "evil"), []),
            (.symlink("./usr/lib/evil", target: "../../.."), []),
            (.file("./usr/lib/step/etc/cron.d/evil", size: 0), Array("* * * * * root sh\n".utf8)),
        ], to: file)
        let input = try MicroOSImage(rootfs: PackageInjectionTests.debianTree()).write("in.img", in: scratch)
        let error = try refusal("evil-link", from: repository, into: input, scratch: scratch)
        #expect(error == .unsafeEntry(package: file, entry: "/usr/lib/step/etc/cron.d/evil",
                                      reason: .escapesRoot(entry: "/usr/lib/step/etc/cron.d/evil", link: "usr/lib/evil",
                                                           target: "../../..")), "\(String(describing: error))")
        #expect(error?.description.hasPrefix(file + ": ") == true, "\(String(describing: error))")
    }

    @Test("A payload entry declaring 1 TiB is refused at its header by the standard limits, naming the package file")
    func payloadDeclaringATerabyte() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try packages.directory("repo")
        let file = repository + "/evil-big_1.0-1_amd64.deb"
        var tar = try InitramfsFixture.tar([(.directory("./usr/"), []), (.file("./usr/big", size: 0), [])], filter: .none)
        try HostileInitramfsTests.setTarSize(1 << 40, of: "./usr/big", in: &tar)
        try Self.craftedDeb(name: "evil-big", data: try InitramfsFixture.compress(tar, with: .gzip, in: scratch), to: file)
        let input = try MicroOSImage(rootfs: PackageInjectionTests.debianTree()).write("in.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let inputs = MicroOSInputs(kernel: kernel, initramfs: input,
                                   request: EditRequest(packages: PackageRequest(directory: repository, names: ["evil-big"])))
        let error = #expect(throws: MicroOSError.self) { try MicroOSBuild.plan(inputs) }
        #expect(error == .unpackLimit(input: file, message: "usr/big declares \(1 << 40) bytes, more than the "
                                          + "\(UnpackLimits.standard.entryBytes)-byte limit for one entry"),
                "\(String(describing: error))")
    }

    /// A .deb (ar: debian-binary, control.tar.gz, data.tar.gz, as dpkg-deb lays it out) whose data.tar holds
    /// `entries` exactly as given: layouts dpkg-deb cannot build from a directory.
    static func craftedDeb(name: String, _ entries: [InitramfsFixture.File], to path: String) throws {
        try craftedDeb(name: name, data: try InitramfsFixture.tar(entries, filter: .gzip), to: path)
    }

    /// A .deb whose data.tar.gz member is `data`.
    static func craftedDeb(name: String, data: [UInt8], to path: String) throws {
        let control = "Package: \(name)\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: x\n"
        var bytes = Array("!<arch>\n".utf8)
        for (member, content) in [("debian-binary", Array("2.0\n".utf8)),
                                  ("control.tar.gz", try InitramfsFixture.tar([(.file("./control", size: 0), Array(control.utf8))])),
                                  ("data.tar.gz", data)] {
            func field(_ text: String, _ width: Int) -> [UInt8] {
                Array(text.utf8) + [UInt8](repeating: 0x20, count: width - text.utf8.count)
            }
            bytes += field(member, 16) + field("0", 12) + field("0", 6) + field("0", 6) + field("100644", 8)
                + field(String(content.count), 10) + [0x60, 0x0A] + content
            if content.count % 2 == 1 { bytes.append(0x0A) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A repository with one .deb built by dpkg-deb from a tree holding the special files made by running each
    /// node's command with its path and `numbers` (mknod's type and numbers; the tests run as root).
    static func specialDeb(_ nodes: [(path: String, command: [String])], packages: Scratch,
                           numbers: [String]) throws -> String {
        let root = try packages.directory("special-deb/root")
        try packages.directory("special-deb/root/DEBIAN")
        let repository = try packages.directory("repo")
        _ = try packages.write("special-deb/root/DEBIAN/control", Array("""
            Package: evil-nodes
            Version: 1.0-1
            Architecture: amd64
            Maintainer: Tests <tests@example.org>
            Description: device nodes in a payload

            """.utf8))
        try packages.write("special-deb/root/usr/share/doc/evil-nodes/README", Array("x\n".utf8))
        for node in nodes {
            try FileManager.default.createDirectory(atPath: root + (node.path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try runTool(node.command[0], Array(node.command.dropFirst()) + [root + node.path] + numbers)
        }
        try runTool("/usr/bin/dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root,
                                          repository + "/evil-nodes_1.0-1_amd64.deb"])
        return repository
    }
}
