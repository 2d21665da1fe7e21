import ArgumentParser
import Foundation
import Installer
import Release

/// `install-os`: the installer service that runs inside the µOS and writes EMT-S to the machine's disk.
@main
struct InstallOS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-os",
        abstract: "Install EMT-S from the boot medium onto this machine's disk.",
        discussion: """
        Runs inside the µOS booted from an EMT-S medium (as the install-os.service unit): finds the medium, \
        picks the target disk, writes and verifies the OS image, sets the UEFI boot entry, saves its log on \
        the medium's config partition and reboots. See installer/README.md.

        Exit codes: 0 installed (or planned, listed, or the installer is off for this boot), 1 install \
        failed, 2 bad configuration or usage, 3 no install medium or image, 4 no eligible target disk, \
        5 image verification failed.
        """,
        version: Release.version,
        subcommands: [Install.self, ListDisks.self, WriteImage.self],
        defaultSubcommand: Install.self)

    /// Parses and runs, with usage errors exiting 2 (ArgumentParser's default is 64) like configuration errors.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(InstallerExitCode.badConfiguration.rawValue)
            }
            exit(withError: error)
        }
    }
}
