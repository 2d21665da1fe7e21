import Foundation
import Glibc
@testable import Installer
import Testing

@Suite(.enabled(if: runningAsRoot, "the copy sets root as owner: needs root"))
struct UserAppsCopyTests {
    @Test func copiesTheTreeWithModesAndLinksAndSkipsSpecialFiles() throws {
        try withScratchDirectory { scratch in
            let source = scratch.path + "/medium/user-apps"
            let partition = scratch.path + "/persistent"
            try writeText("#!/bin/sh\necho app\n", to: source + "/app/run.sh")
            chmod(source + "/app/run.sh", 0o755)
            try writeText("setting=1\n", to: source + "/app/conf/app.conf")
            chmod(source + "/app/conf", 0o750)
            try FileManager.default.createDirectory(atPath: source + "/images", withIntermediateDirectories: true)
            try Data(repeating: 0xA5, count: 3 << 20 + 17).write(to: URL(fileURLWithPath: source + "/images/app.tar"))
            try FileManager.default.createSymbolicLink(atPath: source + "/app/current", withDestinationPath: "run.sh")
            #expect(mkfifo(source + "/pipe", 0o644) == 0)
            // A file left by an earlier copy is replaced.
            try writeText("old\n", to: partition + "/user-apps/app/run.sh")

            #expect(UserAppsCopy.measure(source) == (entries: 8, bytes: 19 + 10 + Int64(3 << 20 + 17)))
            var lines: [String] = []
            let report = try UserAppsCopy(source: source, destinationRoot: partition) { lines.append($0) }.run()
            #expect(report.files == 3 && report.directories == 3 && report.links == 1)
            #expect(report.bytes == 19 + 10 + Int64(3 << 20 + 17))
            #expect(report.skipped == ["/user-apps/pipe"])
            let copied = partition + "/user-apps"
            #expect(try String(contentsOfFile: copied + "/app/run.sh", encoding: .utf8) == "#!/bin/sh\necho app\n")
            #expect(FileManager.default.contents(atPath: copied + "/images/app.tar")
                == FileManager.default.contents(atPath: source + "/images/app.tar"))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: copied + "/app/current") == "run.sh")
            func mode(_ path: String) -> String {
                var status = stat()
                lstat(copied + path, &status)
                return "\(octal(UInt32(status.st_mode) & 0o7777)) \(status.st_uid):\(status.st_gid)"
            }
            #expect(mode("/app/run.sh") == "0755 0:0")
            #expect(mode("/app/conf") == "0750 0:0")
            #expect(mode("") == "0755 0:0")
            #expect(lines.contains("/user-apps/app/run.sh: 19 B, mode 0755"), "\(lines)")
            #expect(lines.contains("/user-apps/app/current: link to run.sh"))
        }
    }

    @Test func aFileWhereADirectoryGoesIsAnError() throws {
        try withScratchDirectory { scratch in
            let source = scratch.path + "/medium/user-apps"
            try writeText("x\n", to: source + "/app/file")
            try writeText("in the way\n", to: scratch.path + "/persistent/user-apps/app")
            #expect(throws: ProvisionError.malformed(path: "/user-apps/app", reason: "exists and is not a directory")) {
                try UserAppsCopy(source: source, destinationRoot: scratch.path + "/persistent").run()
            }
        }
    }
}
