import ArchiveKit
import DeflateKit
import Foundation
import MicroOS
import Testing

/// Hostile and broken inputs: each is refused with its own error naming the entry or input at fault, by the scan,
/// by the rewrite and by `MicroOSBuild.plan`, and no output (not even a `.partial` temporary) is left behind.
@Suite struct RewriteMaliciousInputTests {
    typealias File = InitramfsFixture.File

    /// Runs the three entry points on `initramfs` and checks each refuses it with an `E` that `matches` and whose
    /// description holds every string of `mentioning`. The rewrite's output directory must stay empty.
    func expectRejected<E: Error & CustomStringConvertible>(
        _ initramfs: String, _: E.Type, in scratch: InitramfsScratch, mentioning words: [String],
        sourceLocation: SourceLocation = #_sourceLocation, _ matches: (E) -> Bool
    ) throws {
        let kernel = try RewriteSupport.kernel(in: scratch)
        let out = try RewriteSupport.outputDirectory(scratch, "out-\(UUID().uuidString.prefix(8))")
        let before = RewriteSupport.contents(scratch.url.path)
        let operations: [(String, () throws -> Void)] = [
            ("scan", { _ = try MicroOSRewriter.scan(initramfs: initramfs) }),
            ("rewrite", {
                _ = try MicroOSRewriter.rewrite(initramfs: initramfs, plan: .empty, output: "\(out)/initramfs.img")
            }),
            ("plan", { _ = try MicroOSBuild.plan(RewriteSupport.inputs(kernel: kernel, initramfs: initramfs)) }),
        ]
        for (name, operation) in operations {
            do {
                try operation()
                Issue.record("\(name): \(initramfs) was accepted", sourceLocation: sourceLocation)
                try? FileManager.default.removeItem(atPath: "\(out)/initramfs.img")
                continue
            } catch {
                // A refused entry comes wrapped with the archive it is in; the message names both.
                var underlying: any Error = error
                if case .rejected(let input, let reason)? = error as? MicroOSError {
                    #expect(input.hasPrefix(initramfs), "\(name): \"\(error)\" does not name the input",
                            sourceLocation: sourceLocation)
                    #expect("\(error)".hasPrefix(initramfs), sourceLocation: sourceLocation)
                    underlying = reason
                }
                if let typed = underlying as? E {
                    #expect(matches(typed), "\(name): unexpected \(E.self): \(typed)", sourceLocation: sourceLocation)
                    for word in words {
                        #expect(typed.description.contains(word), "\(name): \"\(typed)\" does not mention \(word)",
                                sourceLocation: sourceLocation)
                    }
                } else {
                    Issue.record("\(name): expected \(E.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
                }
            }
            #expect(RewriteSupport.contents(out).isEmpty, "\(name) left \(RewriteSupport.contents(out)) in \(out)",
                    sourceLocation: sourceLocation)
        }
        #expect(RewriteSupport.contents(scratch.url.path) == before, "files appeared beside the output directory",
                sourceLocation: sourceLocation)
    }

    /// The good tree with hostile entries inserted after `after` (so the rewrite has already started writing).
    static func tree(inserting hostile: [File], after path: String = "./usr/bin/su") -> [File] {
        var files = MicroOSTree.files()
        let index = files.firstIndex { $0.entry.path == path }! + 1
        files.insert(contentsOf: hostile, at: index)
        return files
    }

    // MARK: Nested archive entries

    @Test("A nested entry with '..' components is refused, naming it",
          arguments: ["../../etc/cron.d/evil", "./../x", "./usr/../../x", "usr/lib/../../../x"])
    func nestedTraversal(path: String) throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: Self.tree(inserting: [(.file(path, size: 0), Array("evil".utf8))]))
            .write("uos.img", in: scratch)
        try expectRejected(image, EditPlanError.self, in: scratch, mentioning: ["\"\(path)\"", "'..'"]) {
            $0 == .unsafePath(entry: path, problem: .parentComponent)
        }
    }

    @Test("A nested entry with an absolute path is refused, naming it")
    func nestedAbsolute() throws {
        let scratch = try InitramfsScratch()
        let tar = try InitramfsFixture.tar(Self.tree(inserting: [(.file("/etc/ld.so.preload", size: 0), Array("/x.so".utf8))]))
        // libarchive writes the name as given; make sure the fixture really carries the leading slash.
        let listed = try ArchiveReader(bytes: tar, name: "fixture", mode: .archive([.tarPax]))
        var names: [String] = []
        while let entry = try listed.next() { names.append(entry.path) }
        try #require(names.contains("/etc/ld.so.preload"))

        let image = try MicroOSImage(rootfs: [], nestedBytes: tar).write("uos.img", in: scratch)
        try expectRejected(image, EditPlanError.self, in: scratch, mentioning: ["\"/etc/ld.so.preload\"", "absolute"]) {
            $0 == .unsafePath(entry: "/etc/ld.so.preload", problem: .absolute)
        }
    }

    @Test("An entry that would be extracted through a symlink leaving the root is refused, naming it and the link",
          arguments: [
              ("./evil", "../../..", "./evil/etc/passwd"),
              ("./usr/evil", "../../../..", "./usr/evil/etc/passwd"),
              ("./usr/lib/evil", "../../..", "./usr/lib/evil/etc/passwd"),
          ])
    func symlinkEscape(link: String, target: String, entry: String) throws {
        let scratch = try InitramfsScratch()
        let hostile: [File] = [
            (.symlink(link, target: target), []),
            (.file(entry, size: 0, permissions: 0o644), Array("root::0:0::/root:/bin/sh\n".utf8)),
        ]
        let image = try MicroOSImage(rootfs: Self.tree(inserting: hostile)).write("uos.img", in: scratch)
        let linkPath = String(link.dropFirst(2))
        try expectRejected(image, EditPlanError.self, in: scratch, mentioning: ["\"\(entry)\"", "leaves the root", linkPath]) {
            $0 == .escapesRoot(entry: entry, link: linkPath, target: target)
        }
    }

    @Test("A hard link whose target is unsafe is refused, naming the link and its target",
          arguments: [
              ("../../etc/shadow", EditPlanError.PathProblem.parentComponent),
              ("/etc/shadow", .absolute),
              ("./usr/../../etc/shadow", .parentComponent),
          ])
    func unsafeHardlink(target: String, problem: EditPlanError.PathProblem) throws {
        let scratch = try InitramfsScratch()
        let link = ArchiveEntry(path: "./usr/share/shadow-copy", kind: .regular, permissions: 0o644, hardlinkTarget: target,
                                linkCount: 2)
        let image = try MicroOSImage(rootfs: Self.tree(inserting: [(link, [])])).write("uos.img", in: scratch)
        try expectRejected(image, EditPlanError.self, in: scratch,
                           mentioning: ["\"./usr/share/shadow-copy\"", "hard link", "\"\(target)\""]) {
            $0 == .unsafeHardlink(entry: "./usr/share/shadow-copy", target: target, problem: problem)
        }
    }

    @Test("A hard link whose target goes through a symlink that leaves the root is refused")
    func hardlinkThroughEscapingSymlink() throws {
        let scratch = try InitramfsScratch()
        let hostile: [File] = [
            (.symlink("./evil", target: "../../.."), []),
            (ArchiveEntry(path: "./usr/share/shadow-copy", kind: .regular, permissions: 0o644,
                          hardlinkTarget: "./evil/etc/shadow", linkCount: 2), []),
        ]
        let image = try MicroOSImage(rootfs: Self.tree(inserting: hostile)).write("uos.img", in: scratch)
        // Extracting it (GNU tar, busybox tar) would hard-link the extracting host's /etc/shadow into the tree.
        try expectRejected(image, EditPlanError.self, in: scratch, mentioning: ["./usr/share/shadow-copy", "evil"]) { _ in true }
    }

    // MARK: Outer cpio entries

    @Test("An outer cpio entry with '..' is refused, naming it", arguments: ["../x", "./../etc/x", "bin/../../x"])
    func outerTraversal(path: String) throws {
        let scratch = try InitramfsScratch()
        var image = MicroOSImage(rootfs: MicroOSTree.files())
        image.outerBefore.append(InitramfsFixture.file(path, "evil"))
        let written = try image.write("uos.img", in: scratch)
        try expectRejected(written, EditPlanError.self, in: scratch, mentioning: ["\"\(path)\"", "'..'"]) {
            $0 == .unsafePath(entry: path, problem: .parentComponent)
        }
    }

    @Test("An outer cpio entry written through a symlink that leaves the root is refused, naming it")
    func outerSymlinkEscape() throws {
        let scratch = try InitramfsScratch()
        var image = MicroOSImage(rootfs: MicroOSTree.files())
        image.outerBefore += [(.symlink("up", target: "../.."), []), InitramfsFixture.file("up/etc/passwd", "evil")]
        let written = try image.write("uos.img", in: scratch)
        try expectRejected(written, EditPlanError.self, in: scratch, mentioning: ["\"up/etc/passwd\"", "leaves the root"]) {
            $0 == .escapesRoot(entry: "up/etc/passwd", link: "up", target: "../..")
        }
    }

    // MARK: Broken streams

    @Test("A truncated nested gzip stream is refused, naming the nested archive in its initramfs")
    func truncatedNestedGzip() throws {
        let scratch = try InitramfsScratch()
        let tar = try InitramfsFixture.tar(MicroOSTree.files(), filter: .gzip)
        let image = try MicroOSImage(rootfs: [], nestedBytes: Array(tar.prefix(tar.count * 2 / 3))).write("uos.img", in: scratch)
        // The scan inflates a gzip nested archive itself (DeflateKit, indexing it for the splice).
        try expectRejected(image, DeflateError.self, in: scratch, mentioning: ["\(image):/rootfs.tar.gz", "ends early"]) { error in
            error.input == "\(image):/rootfs.tar.gz"
        }
    }

    @Test("A nested archive whose gzip stream is cut inside its first block is refused")
    func truncatedNestedGzipHeader() throws {
        let scratch = try InitramfsScratch()
        let tar = try InitramfsFixture.tar(MicroOSTree.files(), filter: .gzip)
        let image = try MicroOSImage(rootfs: [], nestedBytes: Array(tar.prefix(40))).write("uos.img", in: scratch)
        try expectRejected(image, DeflateError.self, in: scratch, mentioning: ["\(image):/rootfs.tar.gz"]) { _ in true }
    }

    @Test("A truncated outer gzip segment is refused, naming the initramfs, segment and offset",
          arguments: [false, true])
    func truncatedOuterSegment(early: Bool) throws {
        let scratch = try InitramfsScratch()
        let full = try MicroOSImage(rootfs: MicroOSTree.files(), early: early ? MicroOSImage.earlyFiles : nil).bytes()
        let image = try scratch.write("uos.img", Array(full.prefix(full.count * 2 / 3)))
        let segment = early ? 1 : 0
        try expectRejected(image, InitramfsError.self, in: scratch, mentioning: [image, "segment \(segment)"]) {
            $0.kind == .truncatedSegment && $0.path == image && $0.segment == segment
        }
    }

    @Test("A file that is not a cpio at all is refused as such")
    func wrongMagic() throws {
        let scratch = try InitramfsScratch()
        let elf = try scratch.write("elf.img", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + InitramfsFixture.payload(4096))
        try expectRejected(elf, InitramfsError.self, in: scratch, mentioning: [elf, "not a cpio"]) {
            $0.kind == .notACpio && $0.path == elf
        }
        // The commonest mistake: the rootfs tarball (gzip, but tar inside) given as the initramfs.
        let tarball = try scratch.write("rootfs.tar.gz", try InitramfsFixture.tar(MicroOSTree.files(), filter: .gzip))
        try expectRejected(tarball, InitramfsError.self, in: scratch, mentioning: [tarball, "not a cpio"]) {
            $0.kind == .notACpio && $0.path == tarball
        }
    }

    // MARK: Shape of the µOS

    @Test("An initramfs without the nested root filesystem archive is refused as such")
    func missingNestedArchive() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files(), nestedName: nil).write("plain-initrd.img", in: scratch)
        try expectRejected(image, MicroOSError.self, in: scratch,
                           mentioning: [image, "no nested root filesystem archive", "rootfs.tar.gz"]) {
            $0 == .nestedArchiveMissing(input: image, name: "rootfs.tar.gz")
        }
        // A symlink of that name is not the archive (and must not be followed out of the initramfs).
        var linked = MicroOSImage(rootfs: MicroOSTree.files(), nestedName: nil)
        linked.outerBefore.append((.symlink("rootfs.tar.gz", target: "/etc/passwd"), []))
        let linkedPath = try linked.write("linked.img", in: scratch)
        try expectRejected(linkedPath, MicroOSError.self, in: scratch, mentioning: ["no nested root filesystem archive"]) {
            $0 == .nestedArchiveMissing(input: linkedPath, name: "rootfs.tar.gz")
        }
    }

    @Test("An initramfs carrying the nested archive twice is refused by the plan as by the rewrite")
    func nestedArchiveTwice() throws {
        let scratch = try InitramfsScratch()
        var image = MicroOSImage(rootfs: MicroOSTree.files())
        var second = MicroOSImage.nestedHeader
        second.path = "./rootfs.tar.gz"
        image.outerAfter.append((second, try InitramfsFixture.tar([InitramfsFixture.file("other", "x")])))
        let path = try image.write("twice.img", in: scratch)
        try expectRejected(path, MicroOSError.self, in: scratch, mentioning: [path, "more than once"]) {
            if case .nestedArchiveTwice(path, _) = $0 { return true }
            return false
        }
    }

    @Test("A kernel that is not a bzImage is refused by the plan, naming it")
    func kernelNotABzImage() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        for (name, bytes) in [("elf-vmlinux", [0x7F, 0x45, 0x4C, 0x46] + InitramfsFixture.zeros(8192)),
                              ("initrd-as-kernel", try RewriteSupport.bytes(image))] {
            let kernel = try scratch.write(name, bytes)
            let error = #expect(throws: KernelImageError.self) {
                try MicroOSBuild.plan(RewriteSupport.inputs(kernel: kernel, initramfs: image))
            }
            #expect(error?.path == kernel)
            #expect(error?.description.hasPrefix("\(kernel): ") == true)
            #expect(error?.description.contains("not a bzImage") == true, "\(String(describing: error))")
        }
    }

    // MARK: Output locations

    @Test("An output directory that does not exist: a clear error, nothing written anywhere")
    func outputDirectoryMissing() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let before = RewriteSupport.contents(scratch.url.path)
        let missing = scratch.path("missing")
        let error = #expect(throws: FileStreamError.self) {
            try MicroOSRewriter.rewrite(initramfs: image, plan: .empty, output: "\(missing)/initramfs.img")
        }
        #expect(error?.errno == ENOENT)
        #expect(error?.description.contains(missing) == true, "\(String(describing: error))")
        #expect(error?.description.contains("No such file or directory") == true, "\(String(describing: error))")
        #expect(RewriteSupport.contents(scratch.url.path) == before)
    }

    @Test("An output directory that is not writable: a clear error, nothing written anywhere")
    func outputDirectoryNotWritable() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let locked = try RewriteSupport.outputDirectory(scratch, "locked")
        // Tests run as root, which mode bits do not stop: make the directory immutable instead.
        _ = try InitramfsFixture.run(["chattr", "+i", locked], in: scratch)
        defer { _ = try? InitramfsFixture.run(["chattr", "-i", locked], in: scratch) }
        #expect(!FileManager.default.createFile(atPath: "\(locked)/probe", contents: nil), "chattr +i did not lock \(locked)")
        let before = RewriteSupport.contents(scratch.url.path)

        let rewriteError = #expect(throws: FileStreamError.self) {
            try MicroOSRewriter.rewrite(initramfs: image, plan: .empty, output: "\(locked)/initramfs.img")
        }
        #expect(rewriteError?.description.contains(locked) == true, "\(String(describing: rewriteError))")

        let inputs = RewriteSupport.inputs(kernel: kernel, initramfs: image)
        let plan = try MicroOSBuild.plan(inputs)
        do {
            _ = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: locked, tool: "test")
            Issue.record("wrote into an immutable directory")
        } catch {
            #expect("\(error)".contains(locked), "\(error)")
        }
        // A new directory below the locked one cannot be created: the error names it.
        let below = "\(locked)/build"
        do {
            _ = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: below, tool: "test")
            Issue.record("created \(below) in an immutable directory")
        } catch {
            #expect("\(error)".contains(below), "the error does not name \(below): \(error)")
        }
        #expect(RewriteSupport.contents(locked).isEmpty)
        #expect(RewriteSupport.contents(scratch.url.path) == before)
    }

    @Test("An output directory path that is a file: a clear error, the file untouched")
    func outputDirectoryIsAFile() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let file = try scratch.write("not-a-directory", Array("keep me\n".utf8))
        let before = RewriteSupport.contents(scratch.url.path)
        let inputs = RewriteSupport.inputs(kernel: kernel, initramfs: image)
        let plan = try MicroOSBuild.plan(inputs)
        do {
            _ = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: file, tool: "test")
            Issue.record("wrote into a file")
        } catch {
            #expect("\(error)".contains(file), "the error does not name \(file): \(error)")
        }
        #expect(try RewriteSupport.bytes(file) == Array("keep me\n".utf8))
        #expect(RewriteSupport.contents(scratch.url.path) == before)
    }

    // MARK: Failures after writing started

    @Test("A kernel gone between plan and write: the pair is not left half-written")
    func kernelVanishesBeforeWrite() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let out = scratch.path("pair")
        let inputs = RewriteSupport.inputs(kernel: kernel, initramfs: image)
        let plan = try MicroOSBuild.plan(inputs)
        try FileManager.default.removeItem(atPath: kernel)
        do {
            _ = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: out, tool: "test")
            Issue.record("wrote a pair without a kernel")
        } catch {
            #expect("\(error)".contains(kernel), "\(error)")
        }
        #expect(RewriteSupport.contents(out).isEmpty, "left \(RewriteSupport.contents(out))")
    }

    @Test("A host file that changed size after planning: refused, naming it, nothing left")
    func hostFileChangedSize() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let payload = try scratch.write("install-os", InitramfsFixture.payload(100_000))
        var request = EditRequest.standard
        request.files.append(EditRequest.File(destination: "/usr/bin/install-os", source: try .hostFile(at: payload),
                                              permissions: 0o755))
        let inputs = RewriteSupport.inputs(kernel: kernel, initramfs: image, request: request)
        let plan = try MicroOSBuild.plan(inputs)
        for size in [50_000, 150_000] {
            try scratch.write("install-os", InitramfsFixture.payload(size))
            let out = scratch.path("pair-\(size)")
            do {
                _ = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: out, tool: "test")
                Issue.record("wrote a pair with a host file of the wrong size")
            } catch let error as EditPlanError {
                #expect(error.description.contains(payload), "\(error)")
                #expect(error.description.contains("changed size"), "\(error)")
            }
            #expect(RewriteSupport.contents(out).isEmpty, "left \(RewriteSupport.contents(out))")
        }
    }
}
