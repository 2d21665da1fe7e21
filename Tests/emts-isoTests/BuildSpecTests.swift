import Foundation
@testable import emts_iso
import Testing

@Suite struct BuildSpecTests {
    func withSpec(_ text: String, _ body: (String, String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/release", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/release/emt-s.yaml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try body(path, directory)
    }

    @Test func relativePathsResolveAgainstTheSpecAndFlagsOverrideIt() throws {
        let text = """
            kernel: uos/vmlinuz
            initramfs: /abs/initramfs.img
            output: ../out/emt-s.iso
            disable_units: [caddy.service]
            add: ["files/motd:/etc/motd"]
            compression: zstd
            kargs: [quiet]
            packages: debs
            install: [parted]
            user_apps: apps
            secure_boot: sign
            sign_key: keys/db.key
            sign_cert: keys/db.pem
            source_date_epoch: 1700000000

            """
        try withSpec(text) { path, directory in
            let spec = try BuildSpec.read(path)
            #expect(spec.kernel == directory + "/release/uos/vmlinuz")
            #expect(spec.initramfs == "/abs/initramfs.img")
            #expect(spec.output == directory + "/out/emt-s.iso")
            #expect(spec.add == [directory + "/release/files/motd:/etc/motd"])
            #expect(spec.packages == directory + "/release/debs" && spec.install == ["parted"])
            #expect(spec.userApps == directory + "/release/apps")
            #expect(spec.signKey == directory + "/release/keys/db.key" && spec.sourceDateEpoch == 1_700_000_000)

            let build = try Build.parse(["--spec", path, "--compression", "xz", "--karg", "loglevel=3",
                                         "-o", "/tmp/x.iso"]).merged()
            #expect(build.compressionName == "xz", "the flag wins")
            #expect(build.kernelArguments == ["loglevel=3"])
            #expect(build.output == "/tmp/x.iso")
            #expect(build.kernel == directory + "/release/uos/vmlinuz", "the spec fills the rest")
            #expect(build.disableUnits == ["caddy.service"] && build.secureBoot == "sign")
            #expect(build.installNames == ["parted"] && build.packageDirectory == directory + "/release/debs")
            #expect(build.userApps == directory + "/release/apps")
            if ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] == nil {
                #expect(build.epoch(fallback: 0) == 1_700_000_000)
            }
            #expect(try Build.parse(["--spec", path, "--source-date-epoch", "5"]).merged().epoch(fallback: 0) == 5)
        }
    }

    @Test(arguments: [
        ("kernel: a\nkernal: b\n", "kernal", 2),
        ("kernel: a\nsecure_boot: maybe\n", "secure_boot", 2),
        ("kargs: quiet\n", "kargs", 1),
        ("add: [\"nocolon\"]\n", "add", 1),
    ])
    func badSpecsNameTheKeyAndLine(text: String, key: String, line: Int) throws {
        try withSpec(text) { path, _ in
            let error = #expect(throws: (any Error).self) { try BuildSpec.read(path) }
            let message = "\(error.map { "\($0)" } ?? "")"
            #expect(message.contains("\(path):\(line)") && message.contains(key), "\(message)")
        }
    }

    @Test func aBrokenInstallerConfigFailsTheBuildWithItsLine() throws {
        try withSpec("target: auto\nafter_instal: reboot\n") { path, _ in
            let error = #expect(throws: (any Error).self) {
                try Build.parse(["--kernel", "k", "--initramfs", "i", "-o", "x.iso", "--installer-config", path])
            }
            let message = "\(error.map { "\($0)" } ?? "")"
            #expect(message.contains("\(path):2") && message.contains("after_instal"), "\(message)")
        }
    }

    @Test func aMissingSpecIsNamed() {
        let error = #expect(throws: (any Error).self) { try Build.parse(["--spec", "/nonexistent/spec.yaml"]).merged() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("/nonexistent/spec.yaml"))
    }
}
