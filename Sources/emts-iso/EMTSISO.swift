import ArgumentParser
import Release

/// `emts-iso`: builds the EMT-S install ISO from the µOS, and the tools around it.
@main
struct EMTSISO: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emts-iso",
        abstract: "Build, inspect and test EMT-S install ISOs.",
        discussion: """
        emts-iso takes the µOS (kernel + initramfs carrying the OS as a nested rootfs.tar.gz), turns off the \
        provisioning agents, injects the installer and the packages it needs, and writes a hybrid ISO that boots \
        on BIOS and UEFI from CD or USB stick.

        Exit codes: 0 success, 1 failure (the message names the input and the problem), 64 usage error.
        """,
        version: Release.version,
        subcommands: [Build.self, Inspect.self, Verify.self, Kargs.self, Config.self, Flash.self, BootTestCommand.self,
                      HashPassword.self])
}
