import ArchiveKit
import BootTest
import Foundation
import MicroOS
import Testing

/// The µOS image tarball input form, against the shell flow it replaces.
@Suite struct UOSTarballTests {
    @Test("The tarball form gives the same initramfs as generate-tink-initramfs.sh")
    func matchesTheShellScript() async throws {
        let bed = try await TestBed.sharedAsync()
        let dir = TestBed.logDirectory.appendingPathComponent("uos-\(UUID().uuidString.prefix(8))")
        let reference = dir.appendingPathComponent("script")
        let ours = dir.appendingPathComponent("ours")
        try FileManager.default.createDirectory(at: reference, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/generate-tink-initramfs.sh")
        let inputs = MicroOSInputs(source: .tarball(bed.uosTarball.path), request: EditRequest())
        try FileManager.default.createDirectory(at: ours, withIntermediateDirectories: true)
        let (manifest, theirs, mine, original) = try await offloaded {
            try shell("'\(script.path)' '\(bed.uosTarball.path)' '\(reference.path)'")
            try shell("tar -xzf '\(bed.uosTarball.path)' -C '\(reference.path)' --wildcards './boot/initramfs-*.img'")
            let dracut = try FileManager.default.contentsOfDirectory(atPath: reference.appendingPathComponent("boot").path)
                .first { $0.hasPrefix("initramfs-") }!
            let plan = try MicroOSBuild.plan(inputs, workDirectory: ours.path)
            defer { plan.discard() }
            let manifest = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: ours.path, tool: "test")
            return (manifest,
                    try MicroOSListing(initramfs: reference.appendingPathComponent("initramfs.img").path),
                    try MicroOSListing(initramfs: ours.appendingPathComponent("initramfs.img").path),
                    try MicroOSListing(initramfs: reference.appendingPathComponent("boot/\(dracut)").path))
        }
        let release = manifest.kernel.release
        #expect(Set(manifest.rewrite.dropped).isSuperset(of: ["boot/vmlinuz-\(release)", "boot/initramfs-\(release).img"]))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: ours.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary copies of the tarball's boot files are removed: \(leftovers)")

        #expect(FileManager.default.contentsEqual(atPath: reference.appendingPathComponent("vmlinuz").path,
                                                  andPath: ours.appendingPathComponent("vmlinuz").path))
        // The initramfs entries: ours are the tarball's initramfs exactly; the script's cpio round trip through
        // the disk loses the times of directories and symlinks, and nothing else.
        #expect(mine.outer == original.outer, "initramfs entries as in the tarball's boot/initramfs-*.img")
        func withoutLinkAndDirectoryTimes(_ entries: [ListedEntry]) -> [ListedEntry] {
            entries.map { entry in
                var entry = entry
                if entry.kind == .directory || entry.kind == .symlink { entry.mtime = 0 }
                return entry
            }
        }
        #expect(withoutLinkAndDirectoryTimes(mine.outer) == withoutLinkAndDirectoryTimes(theirs.outer), "initramfs entries")
        #expect(mine.nested.count == theirs.nested.count)
        #expect(mine.nested == theirs.nested, "nested root filesystem entries")
        #expect(!mine.nested.contains { $0.path.hasPrefix("tmp") || $0.path.hasPrefix("boot/vmlinuz-") })
    }

    @Test("The µOS built from its tarball boots with the agents masked")
    func tarballBuildBoots() async throws {
        let bed = try await TestBed.sharedAsync()
        let work = TestBed.logDirectory.appendingPathComponent("edited-tarball")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let inputs = MicroOSInputs(source: .tarball(bed.uosTarball.path), request: EditedTestBedBoots.request)
        _ = try await offloaded {
            let plan = try MicroOSBuild.plan(inputs, workDirectory: work.path)
            defer { plan.discard() }
            return try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: work.path, tool: "test")
        }
        let result = try await EditedTestBedBoots.bootEdited(work, bed: bed)
        print("edited testbed from tarball: \(result.summary)")
        #expect(result.passed, "\(result.summary)")
    }
}
