@testable import Installer
import Testing

@Suite struct InstallerConfigTests {
    @Test func defaults() {
        let config = InstallerConfig()
        #expect(config.target == .auto)
        #expect(config.targetPreference == .smallest)
        #expect(config.image == nil)
        #expect(config.afterInstall == .reboot)
        #expect(config.minDiskGB == nil)
        #expect(config.progressIntervalSeconds == 5)
        #expect(config.origin(of: .target) == "default")
    }

    @Test func mediumFileOverridesTheEmbeddedOneKeyByKey() throws {
        let embedded = try InstallerConfigFile(yaml: """
            target_preference: largest
            after_install: poweroff
            min_disk_gb: 32
            """, path: "/etc/emts/installer.yaml")
        let medium = try InstallerConfigFile(yaml: "after_install: none\ntarget: sda\n",
                                             path: "EMTS-CONFIG:/installer.yaml (/dev/sdb3)")
        let config = InstallerConfig(files: [embedded, medium], commandLine: nil)
        #expect(config.targetPreference == .largest)
        #expect(config.afterInstall == AfterInstall.none)
        #expect(config.target == .device("sda"))
        #expect(config.minDiskGB == 32)
        #expect(config.minDiskBytes == 32_000_000_000)
        #expect(config.origin(of: .targetPreference) == "/etc/emts/installer.yaml")
        #expect(config.origin(of: .afterInstall) == "EMTS-CONFIG:/installer.yaml (/dev/sdb3)")
        #expect(config.origin(of: .progressIntervalSeconds) == "default")
    }

    @Test func kernelCommandLineTargetWins() throws {
        let medium = try InstallerConfigFile(yaml: "target: sda\n", path: "stick")
        let config = InstallerConfig(files: [medium],
                                     commandLine: try KernelCommandLine(parsing: "emts.target=/dev/nvme0n1"))
        #expect(config.target == .device("/dev/nvme0n1"))
        #expect(config.origin(of: .target) == "kernel command line (emts.target=/dev/nvme0n1)")
    }
}
