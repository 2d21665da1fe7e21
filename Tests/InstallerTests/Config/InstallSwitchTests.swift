import Foundation
@testable import Installer
import Testing

@Suite struct InstallSwitchTests {
    @Test func offByCommandLineOrShellLoaderEntry() throws {
        try withScratchDirectory { directory in
            let system = try FakeSystem(root: directory.path)
            let on = try KernelCommandLine(parsing: "emts.medium=b1")
            #expect(InstallSwitch.offReason(commandLine: on, paths: system.paths) == nil)
            #expect(InstallSwitch.offReason(commandLine: try KernelCommandLine(parsing: "emts.install=0"),
                                            paths: system.paths) == "the kernel command line says emts.install=0")

            try system.enableUEFI()
            let variable = system.sysfs + "/firmware/efi/efivars/LoaderEntrySelected-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
            func store(_ entry: String) throws {
                let bytes: [UInt8] = [0x06, 0, 0, 0] + entry.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } + [0, 0]
                try Data(bytes).write(to: URL(fileURLWithPath: variable))
            }
            try store("emts-install.conf")
            #expect(InstallSwitch.offReason(commandLine: on, paths: system.paths) == nil)
            try store("emts-shell.conf")
            #expect(InstallSwitch.offReason(commandLine: on, paths: system.paths)?.contains("emts-shell.conf") == true)
        }
    }
}
