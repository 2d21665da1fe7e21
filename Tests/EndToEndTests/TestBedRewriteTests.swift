import ArchiveKit
import Foundation
import MicroOS
import Testing

/// Rewrites of the real-sized test bed µOS, checked without booting.
@Suite struct TestBedRewriteTests {
    func scratch(_ name: String) throws -> URL {
        let dir = TestBed.logDirectory.appendingPathComponent("rewrite-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("An empty edit plan rewrites every entry unchanged", arguments: TestBed.Variant.allCases)
    func emptyPlanRoundTrip(variant: TestBed.Variant) async throws {
        let bed = try await TestBed.sharedAsync()
        let dir = try scratch(variant.rawValue)
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("initramfs.img").path
        let (report, before, after) = try await offloaded {
            let report = try MicroOSRewriter.rewrite(initramfs: bed.initramfs(variant).path, plan: .empty, output: output)
            return (report, try MicroOSListing(initramfs: bed.initramfs(variant).path), try MicroOSListing(initramfs: output))
        }
        #expect(report.removed == 0 && report.added == 0)
        #expect(report.nestedOut.entries == report.nestedIn.entries)

        #expect(before.nested.count > 5000)
        #expect(after.nestedPath == before.nestedPath)
        #expect(after.outer == before.outer, "outer cpio entries: type, path, mode, owner, mtime, data, links")
        #expect(after.nested.count == before.nested.count)
        for (old, new) in zip(before.nested, after.nested) where old != new {
            Issue.record("nested entry changed: \(old) -> \(new)")
            break
        }
        // The fixtures the test bed plants for exactly this check.
        let bash = after.nested.first { $0.path == "usr/bin/bash" }
        #expect(bash?.xattrs.contains { $0.hasPrefix("security.selinux=") } == true)
        let links = after.nested.filter { $0.path.hasPrefix("usr/share/emts-testbed/hardlink-") }
        #expect(links.count == 2 && Set(links.compactMap(\.hardlinkGroup)).count == 1)
    }

    @Test("GNU cpio and tar extract the rewritten µOS to the same tree")
    func gnuToolsAgree() async throws {
        let bed = try await TestBed.sharedAsync()
        let dir = try scratch("gnu")
        defer { try? FileManager.default.removeItem(at: dir) }
        let facts = try await offloaded { try Self.extractBoth(bed: bed, dir: dir) }
        #expect(facts.tilesFile)
        #expect(facts.inputNames == facts.outputNames)
        #expect(facts.inputTar.split(separator: "\n").count > 5000)
        #expect(facts.inputTar == facts.outputTar)
        #expect(facts.treesDiffer == "")
        #expect(facts.bashLabel.contains("shell_exec_t"))
    }

    struct GNUFacts: Sendable {
        var tilesFile: Bool
        var inputNames: Set<String>
        var outputNames: Set<String>
        var inputTar: String
        var outputTar: String
        var treesDiffer: String
        var bashLabel: String
    }

    /// Rewrites the test bed with an empty plan, then lets GNU cpio and tar list and extract input and output.
    static func extractBoth(bed: TestBed, dir: URL) throws -> GNUFacts {
        let output = dir.appendingPathComponent("initramfs.img").path
        _ = try MicroOSRewriter.rewrite(initramfs: bed.initramfs(.gzip).path, plan: .empty, output: output)
        let layout = try Initramfs.scan(path: output)

        // Outer archive: every segment through the real tools.
        func outerListing(_ path: String, layout: InitramfsLayout, into root: URL) throws -> Set<String> {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            var lines: [String] = []
            for segment in layout.segments {
                let decompress = segment.compression == .none ? "cat" : "\(segment.compression.rawValue) -dc"
                let listing = try shell("dd if='\(path)' bs=1M iflag=skip_bytes,count_bytes skip=\(segment.offset) "
                                        + "count=\(segment.length) status=none | \(decompress) "
                                        + "| (cd '\(root.path)' && cpio -idv --quiet --no-absolute-filenames 2>&1)")
                lines += listing.split(separator: "\n").map(String.init)
            }
            return Set(lines)
        }
        let inputRoot = dir.appendingPathComponent("in")
        let outputRoot = dir.appendingPathComponent("out")
        let inputNames = try outerListing(bed.initramfs(.gzip).path, layout: try Initramfs.scan(path: bed.initramfs(.gzip).path),
                                          into: inputRoot)
        let outputNames = try outerListing(output, layout: layout, into: outputRoot)

        // Nested archive: GNU tar's verbose listing (modes, owners, sizes, times, links, xattrs).
        let tarList = "tar --xattrs --xattrs-include='*' --numeric-owner --full-time -tvvzf"
        let inputTar = try shell("\(tarList) '\(inputRoot.path)/rootfs.tar.gz'")
        let outputTar = try shell("\(tarList) '\(outputRoot.path)/rootfs.tar.gz'")

        // The trees GNU tar extracts, xattrs included. Device nodes are compared by the listing above.
        for (root, name) in [(inputRoot, "in"), (outputRoot, "out")] {
            _ = try shell("mkdir -p '\(dir.path)/\(name)-tree' && tar --xattrs --xattrs-include='*' --numeric-owner -xzpf "
                          + "'\(root.path)/rootfs.tar.gz' -C '\(dir.path)/\(name)-tree'")
        }
        let differ = (try? shell("diff -r --no-dereference --exclude=dev '\(dir.path)/in-tree' '\(dir.path)/out-tree'")) == nil
            ? "trees differ" : ""
        let label = try shell("python3 -c \"import os,sys; print(os.getxattr(sys.argv[1], 'security.selinux'))\" "
                              + "'\(dir.path)/out-tree/usr/bin/bash'")
        return GNUFacts(tilesFile: layout.tilesFile, inputNames: inputNames, outputNames: outputNames,
                        inputTar: inputTar, outputTar: outputTar, treesDiffer: differ, bashLabel: label)
    }
}

/// Runs a bash command line; throws with its output when it fails.
@discardableResult
func shell(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-o", "pipefail", "-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ShellError(command: command, status: process.terminationStatus, output: output)
    }
    return output
}

struct ShellError: Error, CustomStringConvertible {
    var command: String
    var status: Int32
    var output: String
    var description: String { "`\(command)` exited \(status): \(output.suffix(2000))" }
}
