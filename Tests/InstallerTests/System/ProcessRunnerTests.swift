@testable import Installer
import Testing

@Suite struct ProcessRunnerTests {
    @Test func capturesOutputAndStatus() throws {
        let result = try ProcessRunner().run(["sh", "-c", "echo out; echo err >&2; echo \"$LC_ALL\"; exit 3"])
        #expect(result.status == 3)
        #expect(result.standardOutput == "out\nC\n")
        #expect(result.standardError == "err\n")
        #expect(result.lastMessage == "err")
    }

    @Test func aChattyStandardErrorDoesNotStall() throws {
        let result = try ProcessRunner().run(["sh", "-c", "head -c 300000 /dev/zero | tr '\\\\0' x >&2; echo done"])
        #expect(result.status == 0)
        #expect(result.standardError.count == 300_000)
        #expect(result.standardOutput == "done\n")
    }

    @Test func missingProgramIsNamed() {
        #expect(throws: CommandError(command: ["no-such-tool-here", "-v"],
                                     reason: "no-such-tool-here not found in /usr/sbin:/usr/bin:/sbin:/bin")) {
            try ProcessRunner().run(["no-such-tool-here", "-v"])
        }
    }
}
