import Foundation
import Logging

/// One run of install-os: plans the install (reading only), then carries it out.
///
/// Planning reads the kernel command line, the configuration files, finds the medium (mounted read-only),
/// the image and its layout, the disks and the firmware's boot entries, and chooses the target: every
/// configuration, medium and target error surfaces here, before any disk is written. `install(_:)` then
/// writes, verifies and sets the boot entry; `saveLog()` and `finish(_:)` close the run.
public final class Installation {
    /// The outcome of planning.
    public enum Preparation: Sendable {
        /// The installer is off for this boot (`emts.install=0`, the shell menu entry); nothing to do.
        case switchedOff(reason: String)
        case ready(InstallPlan)
    }

    public let environment: InstallEnvironment
    public let log: InstallLog
    private let logger: Logger
    /// The medium, mounted, once found.
    public private(set) var medium: BootMedium?

    public init(environment: InstallEnvironment, log: InstallLog) {
        self.environment = environment
        self.log = log
        logger = log.logger()
    }

    deinit { close() }

    /// Plans the install. Reads and mounts read-only; writes nothing.
    /// - Throws: `InstallError` (`.config`, `.medium`, `.image`, `.target`, `.bootEntry`).
    public func prepare() throws(InstallError) -> Preparation {
        let paths = environment.paths
        let commandLine: KernelCommandLine
        do {
            commandLine = try KernelCommandLine(parsing: SysfsFiles.contents(paths.commandLine) ?? "")
        } catch {
            throw .config(error)
        }
        if let reason = InstallSwitch.offReason(commandLine: commandLine, paths: paths) {
            return .switchedOff(reason: reason)
        }

        var files: [InstallerConfigFile] = []
        var scripts: [HelperScript] = []
        do throws(InstallerConfigError) {
            if let file = try InstallerConfigFile.read(environment.configPath) {
                files.append(file)
            } else if environment.configRequired {
                throw InstallerConfigError.unreadable(file: environment.configPath, reason: "does not exist")
            }
            let folder = (environment.configPath as NSString).deletingLastPathComponent + "/" + HelperScriptFolder.name
            scripts = try HelperScriptFolder.read(folder, shownAs: folder)
        } catch {
            throw .config(error)
        }

        let medium = try findMedium(buildID: commandLine.mediumBuildID)
        info("medium: \(medium.device), build \(medium.buildID)"
            + (medium.configPartition.map { ", config partition \($0)" } ?? ", no config partition"))
        if let device = medium.configPartition {
            do {
                let contents = try ConfigPartition(device: device, mounter: environment.mounter).read()
                if let file = contents.config { files.append(file) }
                scripts = HelperScriptFolder.merge(scripts, contents.scripts)
            } catch {
                throw .config(error)
            }
        }
        let config = InstallerConfig(files: files, commandLine: commandLine)
        do {
            try config.checkComplete()
        } catch {
            throw .config(error)
        }
        for file in files {
            for text in file.warnings { warning("\(file.path): \(text)") }
        }

        let image: OSImage
        do {
            image = try OSImage.find(in: medium.imagesDirectory, named: config.image)
        } catch {
            throw .medium(error)
        }
        let layout: ImageLayout?
        do {
            layout = try ImageLayout.read(image)
        } catch {
            throw .image(error)
        }
        let requirement = SizeRequirement(layout: layout, minDiskBytes: config.minDiskBytes)

        let choice: TargetChoice
        let lvmDisks: [BlockDisk]
        do {
            let inventory = try DiskInventory.scan(paths)
            let policy = TargetPolicy(mediumNames: Set(medium.deviceNames), requirement: requirement,
                                      preference: config.targetPreference)
            choice = try policy.choose(config.target, origin: config.origin(of: .target), inventory: inventory,
                                       paths: paths)
            lvmDisks = try policy.joiningDisks(config.storage.lvmDisks, target: choice.disk, inventory: inventory,
                                               paths: paths)
        } catch {
            throw .target(error)
        }

        let firmware = BootEntryPlan.firmware(paths)
        var current: EFIBootManagerState?
        if firmware == .uefi {
            do {
                current = try BootEntryPlan.readState(using: environment.runner)
            } catch {
                throw .bootEntry(error)
            }
        }
        let bootEntry = BootEntryPlan(firmware: firmware, disk: choice.disk.devicePath,
                                      espPartition: layout?.espPartitionNumber ?? 1, current: current)
        return .ready(InstallPlan(config: config, configFiles: files.map(\.path), medium: medium, image: image,
                                  layout: layout, requirement: requirement, target: choice, bootEntry: bootEntry,
                                  helperScripts: scripts, lvmDisks: lvmDisks,
                                  userApps: SysfsFiles.isDirectory(medium.mount.path(UserAppsCopy.directoryName))
                                      ? medium.mount.path(UserAppsCopy.directoryName) : nil))
    }

    /// Writes the image, verifies it and sets the boot entry, as `plan` says.
    /// - Parameters:
    ///   - progressStyle: in-place redraw on a terminal, else timed lines.
    ///   - redraw: receives the in-place progress text (`.redraw` only); timed lines go to the log.
    /// - Throws: `InstallError.write` (the target wiped when the image failed before it was verified) or
    ///   `.bootEntry`.
    public func install(_ plan: InstallPlan, progressStyle: ProgressReporter.Style,
                        redraw: @escaping (String) -> Void = { _ in }) throws(InstallError) -> InstallReport {
        let device = plan.targetDevice
        info("target: \(device) (\(plan.target.disk.transport.label), \(HumanUnits.bytes(plan.target.disk.sizeBytes)), "
            + "\(plan.target.disk.displayModel)): \(plan.target.reason)")
        info("writing \(plan.image.name) (\(plan.image.compression.rawValue), "
            + "\(HumanUnits.bytes(plan.image.compressedBytes))) to \(device)")
        let logger = self.logger
        let reporter = ProgressReporter(style: progressStyle, clock: environment.clock) { text in
            if case .redraw = progressStyle { redraw(text) } else { logger.info("\(text)") }
        }
        let report: ImageWriteReport
        do throws(ImageWriteError) {
            report = try ImageWriter(clock: environment.clock).write(plan.image, to: device) { reporter.update($0) }
        } catch {
            throw .write(error)
        }
        info(ProgressReporter.summary(report, image: plan.image))
        if report.backupGPTMoved { info("backup GPT moved to the end of \(device)") }
        for text in report.warnings { warning(text) }

        let setup = SystemSetup(config: plan.config, environment: environment, device: device, layout: plan.layout,
                                singleDisk: plan.target.verdicts.filter(\.isEligible).count <= 1,
                                helperScripts: plan.helperScripts,
                                lvmDisks: plan.lvmDisks.map(\.devicePath), userApps: plan.userApps) { [logger] text in
            logger.info("\(text)")
        }
        do {
            _ = try setup.run()
        } catch {
            // The image is on the disk but the system is not what was asked for: it must not boot.
            do {
                let target = try TargetDevice(path: device)
                defer { target.close() }
                try target.zeroSignatureAreas()
                try target.sync()
                warning("the partition tables of \(device) were zeroed again: it does not boot a half-configured system")
            } catch {
                warning("could not zero the partition tables of \(device) (\(error)): do not boot it")
            }
            throw error
        }

        let entry: String?
        do {
            entry = try plan.bootEntry.apply(using: environment.runner)
        } catch {
            throw .bootEntry(error)
        }
        if let entry {
            info("UEFI boot entry Boot\(entry) \"\(plan.bootEntry.label)\" created and first in BootOrder"
                + (plan.bootEntry.staleEntries.isEmpty ? ""
                    : "; deleted stale " + plan.bootEntry.staleEntries.map { "Boot\($0.number)" }.joined(separator: ", ")))
        } else {
            info("BIOS firmware: no boot entry needed")
        }
        return InstallReport(write: report, bootEntry: entry)
    }

    /// Saves the log so far to the medium's config partition, when there is one. Returns where it went.
    /// Failing to save is reported, never fatal: the journal has the same lines.
    @discardableResult
    public func saveLog() -> String? {
        guard let medium, let device = medium.configPartition else { return nil }
        info("saving this log to the config partition \(device)")
        do {
            let path = try ConfigPartition(device: device, mounter: environment.mounter)
                .saveLog(log.transcript, at: environment.now())
            return "\(device):/\(path)"
        } catch {
            warning("could not save the log to \(device): \(error)")
            return nil
        }
    }

    /// Unmounts the medium, then reboots, powers off or does nothing, as configured (`systemctl --no-block`,
    /// so this process can exit cleanly while systemd stops the system).
    /// - Returns: `nil` when done, else what went wrong with systemctl.
    public func finish(_ action: AfterInstall) -> String? {
        let verb: String
        switch action {
        case .reboot: verb = "reboot"
        case .poweroff: verb = "poweroff"
        case .none: return nil
        }
        close()
        let command = ["systemctl", "--no-block", verb]
        do {
            let result = try environment.runner.run(command)
            guard result.status == 0 else {
                return "\(command.joined(separator: " ")) exited with status \(result.status): \(result.lastMessage)"
            }
            return nil
        } catch {
            return error.description
        }
    }

    /// Lists every disk with its verdict. Uses the medium and its image when they can be found (without
    /// waiting); otherwise the notes say what could not be checked.
    /// - Throws: `InstallError.config` for a configuration that cannot be used, `.target` when sysfs lists
    ///   no block devices.
    public func listDisks() throws(InstallError) -> DiskListing {
        let paths = environment.paths
        var notes: [String] = []
        var files: [InstallerConfigFile] = []
        let commandLine: KernelCommandLine
        do throws(InstallerConfigError) {
            commandLine = try KernelCommandLine(parsing: SysfsFiles.contents(paths.commandLine) ?? "")
            if let file = try InstallerConfigFile.read(environment.configPath) { files.append(file) }
        } catch {
            throw .config(error)
        }

        do {
            medium = try BootMediumFinder(paths: paths, mounter: environment.mounter).find(buildID: commandLine.mediumBuildID)
        } catch {
            let summary = error.description.prefix { $0 != ":" && $0 != "\n" }
            notes.append("\(summary): the medium is not excluded and sizes are checked against min_disk_gb only")
        }
        if let device = medium?.configPartition {
            do {
                if let file = try ConfigPartition(device: device, mounter: environment.mounter).readConfig() {
                    files.append(file)
                }
            } catch {
                throw .config(error)
            }
        }
        var layout: ImageLayout?
        if let medium {
            let wanted = InstallerConfig(files: files, commandLine: commandLine).image
            do {
                layout = try ImageLayout.read(try OSImage.find(in: medium.imagesDirectory, named: wanted))
            } catch {
                notes.append("no usable image on the medium (\(error)): sizes are checked against min_disk_gb only")
            }
        }

        let config = InstallerConfig(files: files, commandLine: commandLine)
        let requirement = SizeRequirement(layout: layout, minDiskBytes: config.minDiskBytes)
        let inventory: DiskInventory
        do {
            inventory = try DiskInventory.scan(paths)
        } catch {
            throw .target(error)
        }
        let policy = TargetPolicy(mediumNames: Set(medium?.deviceNames ?? []), requirement: requirement,
                                  preference: config.targetPreference)
        return DiskListing(verdicts: policy.verdicts(inventory), medium: medium, requirement: requirement, notes: notes)
    }

    private func info(_ text: String) { logger.info("\(text)") }
    private func warning(_ text: String) { logger.warning("\(text)") }

    /// Unmounts the medium. Called by `finish` and when the installation is released.
    public func close() {
        if let medium {
            try? environment.mounter.unmount(medium.mount)
            self.medium = nil
        }
    }

    /// Finds the medium, waiting for it to appear when the command line names it.
    private func findMedium(buildID: String?) throws(InstallError) -> BootMedium {
        let finder = BootMediumFinder(paths: environment.paths, mounter: environment.mounter)
        let deadline = environment.clock() + (buildID == nil ? 0 : environment.mediumWaitSeconds)
        var announced = false
        while true {
            do {
                let found = try finder.find(buildID: buildID)
                medium = found
                return found
            } catch {
                guard case .notFound = error, environment.clock() < deadline else { throw .medium(error) }
                if !announced {
                    info("waiting up to \(Int(environment.mediumWaitSeconds)) s for the install medium "
                        + "(build \(buildID ?? "?")) to appear")
                    announced = true
                }
                environment.sleep(1)
            }
        }
    }
}
