import Foundation
import Glibc
@testable import Installer
import Testing

@Suite struct HelperScriptFolderTests {
    @Test func theConfigPartitionsScriptsComeWithItsConfiguration() throws {
        try withScratchDirectory { directory in
            let root = directory.path
            let partition = ConfigPartition(device: "/dev/sdb3", mounter: DirectoryMounter(["/dev/sdb3": root]))
            #expect(try partition.read().scripts == [])

            try writeText("#!/bin/sh\nk3s\n", to: root + "/Cloud-Scripts/k3s-configure.sh")
            try writeText("#!/bin/sh\nlogs\n", to: root + "/Cloud-Scripts/collect-logs.sh")
            try writeText("ignored\n", to: root + "/Cloud-Scripts/.hidden")
            try writeText("hostname: stick\n", to: root + "/installer.yaml")
            let contents = try partition.read()
            #expect(contents.config?.settings.hostname == "stick")
            #expect(contents.scripts.map(\.name) == ["collect-logs.sh", "k3s-configure.sh"])
            #expect(contents.scripts.last?.bytes == Array("#!/bin/sh\nk3s\n".utf8))
            #expect(contents.scripts.last?.source == "EMTS-CONFIG:/Cloud-Scripts/k3s-configure.sh (/dev/sdb3)")
        }
    }

    @Test func aFolderEntryThatIsNoPlainFileOrTooLargeIsAnError() throws {
        try withScratchDirectory { directory in
            let folder = directory.path + "/cloud-scripts"
            try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
            #expect {
                try HelperScriptFolder.read(folder, shownAs: "/etc/emts/cloud-scripts")
            } throws: { error in
                "\(error)".contains("/etc/emts/cloud-scripts/sub") && "\(error)".contains("not a regular file")
            }
            rmdir(folder + "/sub")
            try Data(count: HelperScriptFolder.maximumBytes + 1).write(to: URL(fileURLWithPath: folder + "/big.sh"))
            #expect {
                try HelperScriptFolder.read(folder, shownAs: "/etc/emts/cloud-scripts")
            } throws: { error in
                "\(error)".contains("big.sh") && "\(error)".contains("at most \(HelperScriptFolder.maximumBytes) bytes")
            }
            #expect(try HelperScriptFolder.read(directory.path + "/none", shownAs: "none") == [])
            try FileManager.default.removeItem(atPath: folder + "/big.sh")
            try writeText("#!/bin/sh\n", to: folder + "/my script.sh")
            #expect {
                try HelperScriptFolder.read(folder, shownAs: "/etc/emts/cloud-scripts")
            } throws: { error in
                "\(error)".contains("my script.sh") && "\(error)".contains("blanks")
            }
        }
    }

    @Test func theStickOverridesTheEmbeddedScriptOfTheSameName() {
        func script(_ name: String, _ source: String) -> HelperScript {
            HelperScript(name: name, bytes: Array(source.utf8), source: source)
        }
        let merged = HelperScriptFolder.merge([script("b.sh", "µOS"), script("a.sh", "µOS")],
                                              [script("b.sh", "stick"), script("c.sh", "stick")])
        #expect(merged.map { "\($0.name) \($0.source)" } == ["a.sh µOS", "b.sh stick", "c.sh stick"])
    }
}
