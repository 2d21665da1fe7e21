import ArchiveKit
import Foundation
import MicroOS
import Testing

/// Nested root filesystem archives that reach out of the root through symlink chains, symlink loops, absolute
/// symlinks (which tar follows to the extracting system's own files) and hard link targets through them. The
/// scan, the rewrite and the plan refuse each, naming the entry and the link, and write nothing
/// (`RewriteMaliciousInputTests.expectRejected` checks all three and the output directory).
@Suite struct HostileRootfsTests {
    typealias File = InitramfsFixture.File

    func expectRejected(_ hostile: [File], mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation,
                        _ matches: (EditPlanError) -> Bool) throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: RewriteMaliciousInputTests.tree(inserting: hostile)).write("uos.img", in: scratch)
        try RewriteMaliciousInputTests().expectRejected(image, EditPlanError.self, in: scratch, mentioning: words,
                                                        sourceLocation: sourceLocation, matches)
    }

    @Test("A chain of symlinks whose last one climbs out: the entry below the first is refused, naming the last")
    func chainLeavingTheRoot() throws {
        try expectRejected([
            (.symlink("./l1", target: "l2"), []),
            (.symlink("./l2", target: "usr/l3"), []),
            (.symlink("./usr/l3", target: "../../.."), []),
            (.file("./l1/etc/passwd", size: 0), Array("root::0:0::/root:/bin/sh\n".utf8)),
        ], mentioning: ["\"./l1/etc/passwd\"", "leaves the root", "usr/l3 -> ../../.."]) {
            $0 == .escapesRoot(entry: "./l1/etc/passwd", link: "usr/l3", target: "../../..")
        }
    }

    @Test("Symlinks pointing at each other: the entry below them is refused as a loop, not followed for ever",
          arguments: [
              [("./la", "lb"), ("./lb", "la")],
              [("./self", "self")],
              [("./usr/x", "../y"), ("./y", "usr/z"), ("./usr/z", "x")],
          ])
    func loop(links: [(String, String)]) throws {
        let entry = links[0].0 + "/etc/passwd"
        try expectRejected(links.map { (.symlink($0.0, target: $0.1), []) } + [(.file(entry, size: 0), Array("x".utf8))],
                           mentioning: ["\"\(entry)\"", "more than \(RootPath.symlinkHopLimit) symlinks"]) {
            if case .symlinkLoop(entry, _) = $0 { return true }
            return false
        }
    }

    @Test("An entry below an absolute symlink is refused: tar would write the extracting system's own file",
          arguments: [
              ([("./abs", "/etc")], "./abs/passwd", "abs", "/etc"),
              ([("./a1", "a2"), ("./a2", "/usr/../etc")], "./a1/shadow", "a2", "/usr/../etc"),
              ([("./usr/lib/rel", "../../abs2"), ("./abs2", "/root")], "./usr/lib/rel/.ssh/authorized_keys", "abs2", "/root"),
          ])
    func absoluteSymlink(links: [(String, String)], entry: String, link: String, target: String) throws {
        try expectRejected(links.map { (.symlink($0.0, target: $0.1), []) } + [(.file(entry, size: 0), Array("x".utf8))],
                           mentioning: ["\"\(entry)\"", "leaves the root", "\(link) -> \(target)"]) {
            $0 == .escapesRoot(entry: entry, link: link, target: target)
        }
    }

    @Test("A hard link whose target lies below a symlink chain or an absolute symlink out of the root is refused",
          arguments: [
              ([("./h1", "h2"), ("./h2", "../../..")], "./h1/etc/shadow", "h2"),
              ([("./h1", "/etc")], "./h1/shadow", "h1"),
          ])
    func hardlinkThroughChain(links: [(String, String)], target: String, link: String) throws {
        let hardlink = ArchiveEntry(path: "./usr/share/shadow-copy", kind: .regular, permissions: 0o644,
                                    hardlinkTarget: target, linkCount: 2)
        try expectRejected(links.map { (.symlink($0.0, target: $0.1), []) } + [(hardlink, [])],
                           mentioning: ["\"./usr/share/shadow-copy\"", "leaves the root", link]) {
            if case .escapesRoot("./usr/share/shadow-copy", link, _) = $0 { return true }
            return false
        }
    }

    @Test("Symlinks themselves may point anywhere, absolute or chained, when nothing is extracted through them")
    func linksAloneAreKept() throws {
        let scratch = try InitramfsScratch()
        let links: [File] = [
            (.symlink("./etc/localtime", target: "/usr/share/zoneinfo/UTC"), []),
            (.symlink("./c1", target: "c2"), []),
            (.symlink("./c2", target: "usr/lib"), []),
            (.symlink("./up", target: "../../../.."), []),
        ]
        let image = try MicroOSImage(rootfs: RewriteMaliciousInputTests.tree(inserting: links)).write("uos.img", in: scratch)
        let scan = try MicroOSRewriter.scan(initramfs: image)
        #expect(scan.index.node(at: "etc/localtime")?.symlinkTarget == "/usr/share/zoneinfo/UTC")
        #expect(try scan.index.resolve("c1/firmware.bin") == "usr/lib/firmware.bin")
    }
}
