import ArgumentParser
import Installer

/// Options every subcommand shares: the configuration file, output form, consoles, and where the system
/// trees are (moved only by tests).
struct SystemOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp(
        "Read this configuration instead of \(InstallerConfig.embeddedPath) (the medium's installer.yaml still applies on top).",
        valueName: "FILE"))
    var configPath: String?

    @Flag(help: "Machine-readable output: the plan (--dry-run) or the disk list as JSON on standard output.")
    var json = false

    @Option(name: .customLong("console"), help: ArgumentHelp(
        "Also write every message to this console device (repeatable); the systemd unit passes /dev/tty1 and /dev/ttyS0.",
        valueName: "DEVICE"))
    var consoles: [String] = []

    @Option(name: .customLong("sysfs-root"), help: .hidden)
    var sysfsRoot = "/sys"

    @Option(name: .customLong("dev-root"), help: .hidden)
    var devRoot = "/dev"

    @Option(name: .customLong("proc-root"), help: .hidden)
    var procRoot = "/proc"

    @Option(name: .customLong("medium-wait"), help: .hidden)
    var mediumWaitSeconds: Double = 30

    func environment() -> InstallEnvironment {
        let paths = HostPaths(sysfs: sysfsRoot, dev: devRoot, proc: procRoot)
        return InstallEnvironment(paths: paths, configPath: configPath ?? InstallerConfig.embeddedPath,
                                  configRequired: configPath != nil, mediumWaitSeconds: mediumWaitSeconds)
    }
}
