@testable import Installer
import Testing

@Suite struct KernelCommandLineTests {
    @Test func readsTheInstallerArguments() throws {
        let line = try KernelCommandLine(parsing: """
            BOOT_IMAGE=/boot/vmlinuz root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd \
            console=tty0 console=ttyS0,115200n8 emts.medium=20250131-abc123 emts.target=/dev/disk/by-id/ata-X
            """)
        #expect(line.installEnabled)
        #expect(line.installSwitch == nil)
        #expect(line.mediumBuildID == "20250131-abc123")
        #expect(line.target == .device("/dev/disk/by-id/ata-X"))
        #expect(line.value(of: "root") == "tmpfs")
        #expect(line.value(of: "noresume") == "")
        #expect(line.value(of: "absent") == nil)
    }

    @Test func noInstallSwitchesOff() throws {
        let line = try KernelCommandLine(parsing: "root=tmpfs emts.medium=b1 emts.install=0\n")
        #expect(!line.installEnabled)
        #expect(line.installSwitch == "emts.install=0")
        #expect(try KernelCommandLine(parsing: "emts.install=0 emts.install=1").installEnabled, "the last one counts")
        #expect(try !KernelCommandLine(parsing: "emts.install=off").installEnabled)
    }

    @Test func quotesGroupAndInitArgumentsAreIgnored() throws {
        let line = try KernelCommandLine(parsing: "a=1 dyndbg=\"file x.c +p\" emts.target=sda -- emts.install=0")
        #expect(line.arguments == ["a=1", "dyndbg=file x.c +p", "emts.target=sda"])
        #expect(line.installEnabled)
        #expect(line.target == .device("sda"))
    }

    @Test func badInstallerArgumentsAreErrors() {
        #expect(throws: InstallerConfigError.kernelArgument(argument: "emts.install=maybe",
                                                            message: "use emts.install=0 or emts.install=1")) {
            try KernelCommandLine(parsing: "emts.install=maybe")
        }
        #expect(throws: InstallerConfigError.self) { try KernelCommandLine(parsing: "emts.target=") }
        #expect(throws: InstallerConfigError.self) { try KernelCommandLine(parsing: "emts.target=../sda") }
        #expect(throws: InstallerConfigError.self) { try KernelCommandLine(parsing: "emts.medium=a/b") }
    }
}
