import ArchiveKit
import MicroOS
import Testing

@Suite struct RootfsIndexTests {
    @Test func recordsEveryPathNormalized() throws {
        let index = try EditPlanFixture.microOSIndex()
        #expect(index.entryCount == EditPlanFixture.microOS.count)
        #expect(index["bin"]?.kind == .symlink)
        #expect(index["bin"]?.symlinkTarget == "usr/bin")
        #expect(index["usr/bin/bash"]?.permissions == 0o755)
        #expect(index["usr/bin"]?.kind == .directory)
        #expect(index["usr/bin/bash/"] == nil)
        #expect(index[""]?.kind == .directory)
    }

    @Test func missingParentsAreImplicitDirectoriesAndLaterEntriesWin() throws {
        var index = try RootfsIndex([.file("opt/tool/bin/run", size: 3)])
        #expect(index["opt"]?.kind == .directory)
        #expect(index["opt/tool/bin"]?.isImplicit == true)
        try index.add(.directory("opt/tool", permissions: 0o700))
        #expect(index["opt/tool"]?.isImplicit == false)
        #expect(index["opt/tool"]?.permissions == 0o700)
        try index.add(.symlink("opt/tool/bin/run", target: "other"))
        #expect(index["opt/tool/bin/run"]?.kind == .symlink)
    }

    @Test func resolvesThroughUsrmergeLinks() throws {
        let index = try EditPlanFixture.microOSIndex()
        #expect(try index.resolve("bin/foo") == "usr/bin/foo")
        #expect(try index.resolve("sbin/foo") == "usr/sbin/foo")  // absolute target
        #expect(try index.resolve("lib/systemd/system/caddy.service") == "usr/lib/systemd/system/caddy.service")
        #expect(try index.resolve("bin") == "usr/bin")
        #expect(try index.resolve("bin", followingFinalSymlink: false) == "bin")
        #expect(try index.resolve("etc/systemd/system/multi-user.target.wants/caddy.service")
            == "usr/lib/systemd/system/caddy.service")
        #expect(try index.resolve("usr/lib/systemd/system/multi-user.target.wants/caddy.service")
            == "usr/lib/systemd/system/caddy.service")  // relative target
    }

    @Test func resolvesChainsAndStopsLoops() throws {
        let index = try RootfsIndex([
            .directory("usr"), .directory("usr/bin"),
            .symlink("a", target: "b"), .symlink("b", target: "./c/"), .symlink("c", target: "/usr/bin"),
            .symlink("x", target: "y"), .symlink("y", target: "x"),
        ])
        #expect(try index.resolve("a/tool") == "usr/bin/tool")
        let error = #expect(throws: EditPlanError.self) { try index.resolve("x/tool") }
        guard case .symlinkLoop(let entry, _)? = error else { Issue.record("not a loop: \(String(describing: error))"); return }
        #expect(entry == "x/tool")
    }

    @Test func refusesToLeaveTheRoot() throws {
        let index = try EditPlanFixture.microOSIndex()
        #expect(throws: EditPlanError.escapesRoot(entry: "etc/evil/shadow", link: "etc/evil", target: "../../..")) {
            try index.resolve("etc/evil/shadow")
        }
        #expect(EditPlanError.escapesRoot(entry: "etc/evil/shadow", link: "etc/evil", target: "../../..").description
            == "\"etc/evil/shadow\": leaves the root through symlink etc/evil -> ../../..")
    }

    @Test func refusesEntriesExtractedThroughAnEscapingLink() throws {
        var index = try EditPlanFixture.microOSIndex()
        #expect(throws: EditPlanError.escapesRoot(entry: "./etc/evil/etc/shadow", link: "etc/evil", target: "../../..")) {
            try index.add(.file("./etc/evil/etc/shadow", size: 1))
        }
        // Through a link that stays inside, an entry is fine.
        try index.add(.file("./bin/extra", size: 1))
    }

    @Test func refusesUnsafeEntries() throws {
        var index = RootfsIndex()
        #expect(throws: EditPlanError.unsafePath(entry: "/etc/passwd", problem: .absolute)) {
            try index.add(.file("/etc/passwd", size: 1))
        }
        #expect(throws: EditPlanError.unsafePath(entry: "./usr/../../x", problem: .parentComponent)) {
            try index.add(.file("./usr/../../x", size: 1))
        }
        var link = ArchiveEntry.file("usr/bin/ex", size: 0)
        link.hardlinkTarget = "../etc/shadow"
        #expect(throws: EditPlanError.unsafeHardlink(entry: "usr/bin/ex", target: "../etc/shadow", problem: .parentComponent)) {
            try index.add(link)
        }
        #expect(index.entryCount == 0)
    }

    @Test func listsUnitLinks() throws {
        let index = try EditPlanFixture.microOSIndex()
        let links = index.enablementLinks
        #expect(links.map(\.path) == [
            "etc/systemd/system/getty.target.wants/getty@tty1.service",
            "etc/systemd/system/multi-user.target.wants/caddy.service",
            "etc/systemd/system/multi-user.target.wants/device-discovery.service",
            "etc/systemd/system/multi-user.target.wants/fluent-bit.service",
            "etc/systemd/system/multi-user.target.wants/sshd.service",
            "etc/systemd/system/multi-user.target.wants/td-agent-bit.service",
            "etc/systemd/system/multi-user.target.wants/tink-worker.service",
            "etc/systemd/system/provisioning.target.requires/tink-worker.service",
            "usr/lib/systemd/system/multi-user.target.wants/caddy.service",
        ])
        #expect(links.last?.relation == .wants("multi-user.target"))
        #expect(links.last?.unitDirectory == "usr/lib/systemd/system")
        #expect(links[7].relation == .requires("provisioning.target"))
        #expect(index.unitLinks.filter { $0.relation == .alias }.map(\.path) == ["etc/systemd/system/td-agent-bit.service"])
    }

    @Test func asksOnlyForSmallUnitFiles() throws {
        var index = try EditPlanFixture.microOSIndex()
        #expect(index.wantsContents(of: "./usr/lib/systemd/system/caddy.service"))
        #expect(index.wantsContents(of: "usr/lib/systemd/system/caddy.service"))
        #expect(!index.wantsContents(of: "./etc/hostname"))
        #expect(!index.wantsContents(of: "./usr/bin/bash"))
        #expect(!index.wantsContents(of: "./etc/systemd/system/td-agent-bit.service"))  // a symlink
        try index.add(.file("usr/lib/systemd/system/huge.service", size: Int64(RootfsIndex.defaultContentLimit + 1)))
        #expect(!index.wantsContents(of: "usr/lib/systemd/system/huge.service"))
        try index.add(.file("usr/lib/systemd/system/notes.txt", size: 10))
        #expect(!index.wantsContents(of: "usr/lib/systemd/system/notes.txt"))
        #expect(index.hasRecordedContents(of: "usr/lib/systemd/system/caddy.service"))
        #expect(!index.hasRecordedContents(of: "usr/lib/systemd/system/multi-user.target.wants/caddy.service"))
    }

    @Test func findsUnitFilesByPrecedenceThroughUsrmerge() throws {
        let index = try EditPlanFixture.microOSIndex()
        #expect(index.unitFile(named: "caddy") == "usr/lib/systemd/system/caddy.service")
        #expect(index.unitFile(named: "getty@tty3.service") == "usr/lib/systemd/system/getty@.service")
        #expect(index.unitFile(named: "nosuch") == nil)
        #expect(index.unitFile(named: "td-agent-bit.service") == "etc/systemd/system/td-agent-bit.service")

        // A root that is not usrmerged keeps units in a real lib/systemd/system.
        let old = try RootfsIndex([
            .directory("lib"), .directory("lib/systemd"), .directory("lib/systemd/system"),
            .file("lib/systemd/system/caddy.service", size: 10),
        ])
        #expect(old.unitFile(named: "caddy.service") == "lib/systemd/system/caddy.service")
    }
}
