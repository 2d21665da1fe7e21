import ArgumentParser
import Installer
import Release

/// The default action: plan, then install (or only print the plan with `--dry-run`).
struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install EMT-S onto the target disk (the default action).",
        discussion: """
        Plans first (configuration, medium, image, target disk, boot entry) without writing anything; every \
        configuration, medium or target problem stops the run here. Then zeroes the target's partition tables, \
        streams the image onto it while hashing it, verifies the sha256, writes the partition table last, sets \
        the UEFI boot entry, saves the log to the medium and reboots (after_install).
        """)

    @Flag(help: "Print the full plan (medium, image and sha256, target and why, every step) and write nothing.")
    var dryRun = false

    @OptionGroup var options: SystemOptions

    func validate() throws {
        if options.json && !dryRun {
            throw ValidationError("--json goes with --dry-run or list-disks; the install itself logs text")
        }
    }

    func run() throws {
        let console = Console(json: options.json, consoles: options.consoles)
        let log = InstallLog { text, level in console.line(text, level: level) }
        let installation = Installation(environment: options.environment(), log: log)
        defer { installation.close() }
        log.record("install-os \(Release.version)" + (dryRun ? ": dry run, nothing is written" : ""))
        do {
            let plan: InstallPlan
            switch try installation.prepare() {
            case .switchedOff(let reason):
                log.record("the installer is off for this boot: \(reason); nothing to do")
                return
            case .ready(let ready):
                plan = ready
            }
            if dryRun {
                if options.json { console.printJSON(plan) } else { console.print(plan.description) }
                return
            }
            log.record("plan:\n" + plan.description)
            // The progress lines own the consoles while the image is written: systemd's spinner waits.
            let statusDisplay = SystemdStatusDisplay(paths: options.environment().paths)
            statusDisplay?.pause()
            defer { statusDisplay?.resume() }
            let style: ProgressReporter.Style = console.isTerminal
                ? .redraw : .lines(interval: Double(plan.config.progressIntervalSeconds))
            _ = try installation.install(plan, progressStyle: style) { console.redraw($0) }
            log.record("EMT-S is installed on \(plan.targetDevice)")
            if let saved = installation.saveLog() { console.line("log saved to \(saved)", level: .info) }
            if let problem = installation.finish(plan.config.afterInstall) {
                log.record("the install succeeded, but \(plan.config.afterInstall.rawValue) failed: \(problem)",
                           level: .error)
                throw ExitCode(InstallerExitCode.installFailed.rawValue)
            }
        } catch let error as InstallError {
            log.record(error.description, level: .error)
            if options.json { console.printJSON(Failure(error: error.description, exitCode: error.exitCode.rawValue)) }
            if !dryRun, let saved = installation.saveLog() { console.line("log saved to \(saved)", level: .info) }
            throw ExitCode(error.exitCode.rawValue)
        }
    }
}

/// The `--json` document of a failed plan.
private struct Failure: Encodable {
    var error: String
    var exitCode: Int32
}
