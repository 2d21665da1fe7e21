import ArgumentParser
import Release

/// `install-os`: the installer service that runs inside the µOS and writes EMT-S to the machine's disk.
@main
struct InstallOS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-os",
        abstract: "Install EMT-S from the boot medium onto this machine's disk.",
        discussion: """
        Runs inside the µOS booted from an EMT-S ISO: finds the install medium, picks the target disk, writes \
        and verifies the OS image, configures it and reboots into it.

        This version carries no installation steps yet: it reports its version and exits without touching \
        any disk.
        """,
        version: Release.version)

    func run() async throws {
        print("install-os \(Release.version): no installation steps in this version; no disk was touched.")
        throw ExitCode(2)
    }
}
