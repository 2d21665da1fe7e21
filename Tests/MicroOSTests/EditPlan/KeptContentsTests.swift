import ArchiveKit
@testable import MicroOS
import Testing

@Suite struct KeptContentsTests {
    typealias F = EditPlanFixture

    @Test func recordsOfTheBuildAndDpkgStatusAreKeptWhole() throws {
        let status = Array(String(repeating: "Package: x\nStatus: install ok installed\n\n", count: 3000).utf8)
        let index = try F.microOSIndex(adding: [
            F.dir("./etc/emts/"), F.file("./etc/emts/installer.yaml", Array("target: auto\n".utf8)),
            F.dir("./var/lib/dpkg/"), F.file("./var/lib/dpkg/status", status),
            F.file("./etc/other.conf", Array("not kept\n".utf8)),
        ])
        #expect(index.keptContents(of: "/etc/emts/installer.yaml") == Array("target: auto\n".utf8))
        #expect(index.keptContents(of: "var/lib/dpkg/status") == status, "larger than the unit-file limit, still kept")
        #expect(index.keptContents(of: "/etc/other.conf") == nil)
        #expect(index.keptPaths == ["etc/emts/installer.yaml", "var/lib/dpkg/status"])
        #expect(index.contentReadLimit >= 64 << 20)
    }

    @Test func aLaterEntryForThePathDropsTheKeptBytes() throws {
        var index = try F.index([F.dir("./etc/emts/"), F.file("./etc/emts/installer.yaml", Array("a\n".utf8))])
        try index.add(F.link("./etc/emts/installer.yaml", "/tmp/x").entry)
        #expect(index.keptContents(of: "etc/emts/installer.yaml") == nil)
    }
}
