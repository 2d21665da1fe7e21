import ArchiveKit
import Foundation
import MicroOS
import Testing

/// What the rewrite makes of a synthetic µOS: exactly the planned changes, everything else carried over.
@Suite struct RewriteCorrectnessTests {
    /// A raw nested entry as far as tar carries it: the spelling of its path, sub-second mtime, owner names, xattrs.
    struct RawEntry: Hashable, CustomStringConvertible {
        var path: String
        var kind: EntryKind
        var permissions: UInt32
        var uid: Int64
        var gid: Int64
        var userName: String?
        var groupName: String?
        var mtime: ArchiveTime
        var size: Int64
        var symlinkTarget: String?
        var hardlinkTarget: String?
        var xattrs: Set<ExtendedAttribute>
        var device: [UInt32]

        init(_ entry: ArchiveEntry) {
            path = entry.path
            kind = entry.kind
            permissions = entry.permissions
            uid = entry.uid
            gid = entry.gid
            userName = entry.userName
            groupName = entry.groupName
            mtime = entry.mtime
            size = entry.size
            symlinkTarget = entry.symlinkTarget
            hardlinkTarget = entry.hardlinkTarget
            xattrs = Set(entry.xattrs)
            device = [entry.deviceMajor, entry.deviceMinor]
        }

        var description: String { "\(kind) \(path)" }
    }

    struct Rewritten {
        var input: String
        var output: String
        var plan: EditPlan
        var report: RewriteReport
    }

    /// Plans `request` against `image` (through `MicroOSBuild.plan`) and rewrites it, splicing a gzip nested
    /// archive as `emts-iso build` does (`splice: false` recompresses it whole).
    func rewrite(_ image: MicroOSImage, request: EditRequest = .standard, options: RewriteOptions = RewriteOptions(),
                 splice: Bool = true, in scratch: InitramfsScratch) throws -> Rewritten {
        let input = try image.write("input-\(UUID().uuidString.prefix(8)).img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let plan = try MicroOSBuild.plan(RewriteSupport.inputs(kernel: kernel, initramfs: input, request: request,
                                                               options: options))
        let out = try RewriteSupport.outputDirectory(scratch, "out-\(UUID().uuidString.prefix(8))")
        let output = "\(out)/initramfs.img"
        let report = try MicroOSRewriter.rewrite(initramfs: input, plan: plan.edits, output: output, options: options,
                                                 splice: splice ? plan.scan.nestedSplice : nil)
        #expect(RewriteSupport.contents(out) == ["initramfs.img"], "temporary files left: \(RewriteSupport.contents(out))")
        return Rewritten(input: input, output: output, plan: plan.edits, report: report)
    }

    /// The listing the standard plan should produce from `before`: the agents' wants links gone, their masks
    /// appended, every other entry identical.
    static func expectedAfterStandardPlan(_ before: [ListedEntry]) -> [ListedEntry] {
        before.filter { !MicroOSTree.wantsLinks.contains($0.path) } + MicroOSTree.masks
    }

    // MARK: The standard plan

    @Test("The standard plan removes the 4 wants links, adds 4 masks, and changes nothing else")
    func standardPlan() throws {
        let scratch = try InitramfsScratch()
        let result = try rewrite(MicroOSImage(rootfs: MicroOSTree.files(), early: MicroOSImage.earlyFiles), in: scratch)

        #expect(Set(result.plan.removals.map(\.path)) == MicroOSTree.wantsLinks)
        #expect(result.plan.additions.map(\.path) == MicroOSTree.masks.map(\.path))
        #expect(result.report.removed == 4)
        #expect(result.report.added == 4)

        let before = try MicroOSListing(initramfs: result.input)
        let after = try MicroOSListing(initramfs: result.output)
        #expect(before.nested.count == MicroOSTree.files().count)
        #expect(after.outer == before.outer, "outer entries")
        #expect(after.nestedPath == before.nestedPath)
        let expected = Self.expectedAfterStandardPlan(before.nested)
        #expect(after.nested.count == expected.count)
        for (got, want) in zip(after.nested, expected) where got != want {
            Issue.record("nested entry differs:\n  got  \(got)\n  want \(want)")
        }
        // sshd stays enabled; the agents' unit files stay.
        #expect(after.nested.contains { $0.path == "\(MicroOSTree.wantsDirectory)/sshd.service" })
        for unit in MicroOSTree.agents {
            #expect(after.nested.contains { $0.path == "\(MicroOSTree.vendorUnits)/\(unit)" && $0.kind == .regular })
            #expect(!after.nested.contains { $0.path == "\(MicroOSTree.wantsDirectory)/\(unit)" })
        }

        // Raw: every carried entry is the same header, path spelling and sub-second mtime included.
        let rawBefore = try RewriteSupport.rawNested(result.input).entries.map(RawEntry.init)
        let rawAfter = try RewriteSupport.rawNested(result.output).entries.map(RawEntry.init)
        let kept = rawBefore.filter { !MicroOSTree.wantsLinks.contains(Initramfs.normalizedName($0.path)) }
        #expect(Array(rawAfter.prefix(kept.count)) == kept)
        let home = rawAfter.first { $0.path == "./home/user" }
        #expect(home?.mtime == ArchiveTime(seconds: 1_650_000_000, nanoseconds: 123_456_789))
        #expect(home?.userName == "user" && home?.uid == 1000)
        #expect(rawAfter.first { $0.path == "./usr/bin/bash" }?.xattrs == [MicroOSTree.selinux("shell_exec_t")])

        // The nested archive keeps its outer header (mode, owner, mtime) and nothing else of its name remains.
        let header = try #require(try RewriteSupport.outerEntry(result.output, name: "rootfs.tar.gz"))
        #expect(header.entry.permissions == MicroOSImage.nestedHeader.permissions)
        #expect(header.entry.mtime.seconds == MicroOSImage.nestedHeader.mtime.seconds)
        #expect(try Initramfs.find(path: result.output)?.occurrences == 1)
        #expect(header.entry.size == result.report.nestedOut.bytes)
    }

    @Test("writeInitramfsPair writes the kernel, the initramfs and a manifest that describes them")
    func initramfsPair() throws {
        let scratch = try InitramfsScratch()
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let inputs = RewriteSupport.inputs(kernel: kernel, initramfs: input)
        let plan = try MicroOSBuild.plan(inputs)
        let out = scratch.path("new/pair")
        let manifest = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: out, tool: "test")
        #expect(RewriteSupport.contents(out) == ["initramfs.img", "manifest.json", "vmlinuz"])
        #expect(try RewriteSupport.bytes("\(out)/vmlinuz") == RewriteSupport.bytes(kernel))
        #expect(manifest.outputs == [try MicroOSBuild.describe("\(out)/vmlinuz", as: "vmlinuz"),
                                     try MicroOSBuild.describe("\(out)/initramfs.img", as: "initramfs.img")])
        let decoded = try JSONDecoder().decode(MicroOSManifest.self,
                                               from: Data(contentsOf: URL(fileURLWithPath: "\(out)/manifest.json")))
        #expect(decoded == manifest)
        let after = try MicroOSListing(initramfs: "\(out)/initramfs.img")
        #expect(after.nested == Self.expectedAfterStandardPlan(try MicroOSListing(initramfs: input).nested))
    }

    // MARK: Spelling of added entries

    @Test("Added entries are spelled like the archive's own entries",
          arguments: [("./", true), ("./", false), ("", true), ("", false)])
    func additionsSpelledLikeTheArchive(prefix: String, rootEntry: Bool) throws {
        let scratch = try InitramfsScratch()
        var request = EditRequest.standard
        request.files.append(EditRequest.File(destination: "/bin/install-os", source: .inline(Array("#!/bin/sh\n".utf8)),
                                              permissions: 0o755))
        request.directories.append(EditRequest.Directory(path: "/opt/emts"))
        let result = try rewrite(MicroOSImage(rootfs: MicroOSTree.files(prefix: prefix, rootEntry: rootEntry)),
                                 request: request, in: scratch)
        let raw = try RewriteSupport.rawNested(result.output).entries
        let addedPaths = Set(result.plan.additions.map(\.path))
        #expect(addedPaths.contains("usr/bin/install-os"), "usrmerge: /bin/install-os lands in usr/bin")
        let added = raw.filter { addedPaths.contains(Initramfs.normalizedName($0.path)) }
        #expect(added.count == result.plan.additions.count)
        for entry in added {
            #expect(entry.path == prefix + Initramfs.normalizedName(entry.path),
                    "\(entry.path) is not spelled with the archive's prefix \"\(prefix)\"")
        }
        // bin stays the usrmerge symlink.
        #expect(raw.filter { Initramfs.normalizedName($0.path) == "bin" }.map(\.kind) == [.symlink])
    }

    // MARK: Compression

    @Test("The nested archive keeps its compression", arguments: [ArchiveFilter.gzip, .zstd, .xz])
    func nestedCompressionKept(filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let result = try rewrite(MicroOSImage(rootfs: MicroOSTree.files(), nestedFilter: filter), in: scratch)
        let nested = try RewriteSupport.rawNested(result.output)
        #expect(nested.compression == filter)
        #expect(nested.magic == filter)
        #expect(result.report.nestedIn.compression == filter)
        #expect(result.report.nestedOut.compression == filter)
        let scan = try MicroOSRewriter.scan(initramfs: result.output)
        #expect(scan.nested.compression == filter)
        let before = try MicroOSListing(initramfs: result.input)
        #expect(try MicroOSListing(initramfs: result.output).nested == Self.expectedAfterStandardPlan(before.nested))
    }

    @Test("The outer compression option is honoured; a plain early segment stays plain and first; the layout tiles",
          arguments: [ArchiveFilter.gzip, .zstd, .xz, .none])
    func outerCompression(filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let image = MicroOSImage(rootfs: MicroOSTree.files(), outerFilter: .gzip, early: MicroOSImage.earlyFiles)
        let result = try rewrite(image, options: RewriteOptions(outerCompression: filter), in: scratch)
        #expect(result.report.outerCompression == filter)

        let layout = try Initramfs.scan(path: result.output)
        #expect(layout.tilesFile, "\(layout)")
        #expect(layout.fileSize == result.report.outputBytes)
        #expect(layout.leadingPadding == 0)
        let first = try #require(layout.segments.first)
        #expect(first.offset == 0 && first.compression == .none && first.entryCount == MicroOSImage.earlyFiles.count,
                "\(first)")
        let ucode = try #require(try Initramfs.find(path: result.output, name: "kernel/x86/microcode/GenuineIntel.bin"))
        #expect(ucode.segment == 0)
        let nested = try #require(try Initramfs.find(path: result.output))
        for segment in layout.segments.dropFirst() where segment.index != nested.segment {
            #expect(segment.compression == filter, "segment \(segment.index): \(segment.compression), want \(filter)")
        }
        for segment in layout.segments where segment.compression == .none {
            #expect(segment.offset % 4 == 0, "plain segment \(segment.index) at \(segment.offset)")
        }
        // The kernel's xz decoder takes CRC32 (or no) checks only: stream flags, byte 7 of the stream header.
        let bytes = try RewriteSupport.bytes(result.output)
        for segment in layout.segments where segment.compression == .xz {
            let check = bytes[Int(segment.offset) + 7] & 0x0F
            #expect(check == 0x01 || check == 0x00, "xz segment \(segment.index) has check type \(check) (1 = CRC32)")
        }
        #expect(layout.segments.reduce(0) { $0 + $1.entryCount } == MicroOSImage.earlyFiles.count
                    + MicroOSImage.outerBefore.count + 1 + MicroOSImage.outerAfter.count)

        let before = try MicroOSListing(initramfs: result.input)
        let after = try MicroOSListing(initramfs: result.output)
        #expect(after.outer == before.outer)
        #expect(after.nested == Self.expectedAfterStandardPlan(before.nested))
    }

    @Test("An outer compression the kernel cannot unpack is refused before anything is written",
          arguments: ArchiveFilter.allCases.filter { !RewriteOptions.outerCompressions.contains($0) })
    func unbootableOuterCompression(filter: ArchiveFilter) throws {
        #expect(!RewriteOptions.outerCompressions.contains(filter))
        let scratch = try InitramfsScratch()
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let out = try RewriteSupport.outputDirectory(scratch)
        let error = #expect(throws: MicroOSError.self) {
            try MicroOSRewriter.rewrite(initramfs: input, plan: .empty, output: "\(out)/initramfs.img",
                                        options: RewriteOptions(outerCompression: filter))
        }
        #expect(error == .unbootableCompression(filter.rawValue))
        #expect(error?.description.contains(filter.rawValue) == true)
        #expect(RewriteSupport.contents(out).isEmpty, "left \(RewriteSupport.contents(out))")
    }

    // MARK: Hard links

    @Test("Hard links in the nested archive survive the rewrite")
    func hardlinksSurvive() throws {
        let scratch = try InitramfsScratch()
        let result = try rewrite(MicroOSImage(rootfs: MicroOSTree.files()), in: scratch)
        // The listing must give a hard-link set the digest of its data (tar stores it with the first member).
        let before = try MicroOSListing(initramfs: result.input).nested
        let bashBefore = try #require(before.first { $0.path == "usr/bin/bash" })
        #expect(bashBefore.sha256 != nil, "MicroOSListing lost the data digest of a tar hard-link set")
        let after = try MicroOSListing(initramfs: result.output).nested
        #expect(after == Self.expectedAfterStandardPlan(before))
        let bash = try #require(after.first { $0.path == "usr/bin/bash" })
        let sh = try #require(after.first { $0.path == "usr/bin/sh" })
        #expect(bash.hardlinkGroup == "usr/bin/bash" && sh.hardlinkGroup == "usr/bin/bash")
        #expect(bash.sha256 != nil && sh.sha256 == bash.sha256)
        let raw = try RewriteSupport.rawNested(result.output).entries
        let rawSh = try #require(raw.first { $0.path == "./usr/bin/sh" })
        #expect(rawSh.hardlinkTarget == "./usr/bin/bash")
        #expect(rawSh.size == 0)
        #expect(raw.first { $0.path == "./usr/bin/bash" }?.size == 40_000)
    }

    @Test("A plan that removes a hard link's target is refused, naming both, and writes nothing")
    func removingAHardlinkTarget() throws {
        let scratch = try InitramfsScratch()
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let out = try RewriteSupport.outputDirectory(scratch)
        let plan = EditPlan(removals: [EditPlan.Removal(path: "usr/bin/bash", reason: .replacedByAddition)],
                            additions: [], notes: [])
        let error = #expect(throws: MicroOSError.self) {
            try MicroOSRewriter.rewrite(initramfs: input, plan: plan, output: "\(out)/initramfs.img")
        }
        #expect(error == .removedHardlinkTarget(input: "\(input):/rootfs.tar.gz", entry: "./usr/bin/sh",
                                                target: "./usr/bin/bash"))
        #expect(error?.description.contains("./usr/bin/sh") == true && error?.description.contains("./usr/bin/bash") == true)
        #expect(RewriteSupport.contents(out).isEmpty, "left \(RewriteSupport.contents(out))")

        // The planner refuses to make such a plan in the first place (replacing /bin/bash through usrmerge).
        var request = EditRequest.standard
        request.files.append(EditRequest.File(destination: "/bin/bash", source: .inline(Array("x".utf8)), permissions: 0o755))
        let planError = #expect(throws: EditPlanError.self) {
            try MicroOSBuild.plan(RewriteSupport.inputs(kernel: try RewriteSupport.kernel(in: scratch), initramfs: input,
                                                        request: request))
        }
        #expect(planError == .replacesHardlinkedFile(path: "usr/bin/bash"))
    }

    // MARK: Splicing the gzip nested archive

    @Test("Splicing the nested archive gives the same tree as compressing it again, and copies what it keeps")
    func spliceMatchesRecompression() throws {
        let scratch = try InitramfsScratch()
        let payload = try scratch.write("install-os", InitramfsFixture.payload(300_000, seed: 5))
        var request = EditRequest.standard
        request.files.append(EditRequest.File(destination: "/usr/bin/install-os", source: try .hostFile(at: payload),
                                              permissions: 0o755))
        // Big files between the removed links, so the kept blocks far from them are copied, not recompressed.
        var files = MicroOSTree.files()
        files.insert((.file("./usr/share/big-before", size: 0), InitramfsFixture.payload(2_000_000, seed: 1)), at: 5)
        files.append((.file("./usr/share/big-after", size: 0), InitramfsFixture.payload(2_000_000, seed: 2)))
        let image = MicroOSImage(rootfs: files, early: MicroOSImage.earlyFiles)
        let spliced = try rewrite(image, request: request, in: scratch)
        let recompressed = try rewrite(image, request: request, splice: false, in: scratch)

        let figures = try #require(spliced.report.splice, "the gzip nested archive was not spliced")
        #expect(recompressed.report.splice == nil)
        #expect(figures.bytesDeflated < spliced.report.nestedOut.unpackedBytes / 2,
                "recompressed \(figures.bytesDeflated) of \(spliced.report.nestedOut.unpackedBytes) bytes")
        let listing = try MicroOSListing(initramfs: spliced.output)
        #expect(listing.nested == (try MicroOSListing(initramfs: recompressed.output)).nested)
        #expect(listing.nested.contains { $0.path == "usr/bin/install-os" })
        #expect(spliced.report.nestedOut.entries == recompressed.report.nestedOut.entries)
        #expect(spliced.report.nestedOut.unpackedBytes == recompressed.report.nestedOut.unpackedBytes)
        #expect(spliced.report.removed == recompressed.report.removed && spliced.report.added == recompressed.report.added)
        // Every kept entry keeps its own header; the raw entries match the recompressed ones.
        let rawSpliced = try RewriteSupport.rawNested(spliced.output)
        let rawRecompressed = try RewriteSupport.rawNested(recompressed.output)
        #expect(rawSpliced.entries.map(RawEntry.init) == rawRecompressed.entries.map(RawEntry.init))
        #expect(rawSpliced.compression == .gzip)
    }

    @Test("A spliced rewrite that would remove a hard link's target is refused, naming both, and writes nothing")
    func spliceRefusesRemovingAHardlinkTarget() throws {
        let scratch = try InitramfsScratch()
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        let scan = try MicroOSRewriter.scan(initramfs: input)
        let splice = try #require(scan.nestedSplice)
        let out = try RewriteSupport.outputDirectory(scratch)
        let plan = EditPlan(removals: [EditPlan.Removal(path: "usr/bin/bash", reason: .replacedByAddition)],
                            additions: [], notes: [])
        let error = #expect(throws: MicroOSError.self) {
            try MicroOSRewriter.rewrite(initramfs: input, plan: plan, output: "\(out)/initramfs.img", splice: splice)
        }
        #expect(error == .removedHardlinkTarget(input: "\(input):/rootfs.tar.gz", entry: "./usr/bin/sh",
                                                target: "./usr/bin/bash"))
        #expect(RewriteSupport.contents(out).isEmpty, "left \(RewriteSupport.contents(out))")
    }

    // MARK: Reproducibility

    @Test("Two rewrites of the same input with the same plan are byte-identical",
          arguments: [(ArchiveFilter.gzip, ArchiveFilter.gzip), (.zstd, .zstd), (.xz, .xz), (.gzip, .none)])
    func reproducible(nested: ArchiveFilter, outer: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let payload = try scratch.write("install-os", InitramfsFixture.payload(200_000, seed: 11))
        var request = EditRequest.standard
        request.files.append(EditRequest.File(destination: "/usr/bin/install-os", source: try .hostFile(at: payload),
                                              permissions: 0o755))
        request.directories.append(EditRequest.Directory(path: "/opt/emts"))
        let input = try MicroOSImage(rootfs: MicroOSTree.files(), nestedFilter: nested, early: MicroOSImage.earlyFiles)
            .write("uos.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let options = RewriteOptions(outerCompression: outer)
        let inputs = RewriteSupport.inputs(kernel: kernel, initramfs: input, request: request, options: options)
        let plan = try MicroOSBuild.plan(inputs)

        var outputs: [[UInt8]] = []
        var manifests: [MicroOSManifest] = []
        for run in 0 ..< 2 {
            // A different second on the clock, so a timestamp in any header would show.
            if run > 0 { Thread.sleep(forTimeInterval: 1.1) }
            let out = scratch.path("run\(run)")
            var manifest = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: out, tool: "test")
            outputs.append(try RewriteSupport.bytes("\(out)/initramfs.img"))
            manifest.rewrite.output = ""
            manifests.append(manifest)
        }
        #expect(outputs[0].count == outputs[1].count)
        let firstDifference = zip(outputs[0], outputs[1]).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "the two rewrites differ, first at byte \(firstDifference ?? -1)")
        #expect(manifests[0].outputs == manifests[1].outputs)
        var second = manifests[1]
        second.outputs = manifests[0].outputs
        #expect(second == manifests[0], "the manifests differ beyond the output digests")
    }
}
