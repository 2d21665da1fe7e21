/// What makes the firmware boot the installed disk.
///
/// Under UEFI: delete the entries of earlier installs (same label), create one entry for the installed
/// disk's ESP and its loader, and put it first in `BootOrder`, all with efibootmgr. Under BIOS nothing is
/// needed: the image's own boot code in its first sectors is what the BIOS runs.
public struct BootEntryPlan: Sendable, Equatable, Encodable {
    public enum Firmware: String, Sendable, Codable {
        case uefi, bios
    }

    /// The label of the installed system's entry; stale entries are found by it.
    public static let defaultLabel = "EMT-S"
    /// The removable-media loader path every EMT raw image carries on its ESP.
    public static let defaultLoader = #"\EFI\BOOT\BOOTX64.EFI"#

    public var firmware: Firmware
    /// The installed disk (`/dev/nvme0n1`).
    public var disk: String
    /// The ESP's partition number on it.
    public var espPartition: Int
    public var label: String
    public var loader: String
    /// Entries labelled `label` from earlier installs: deleted before the new one is created.
    public var staleEntries: [EFIBootManagerState.Entry]

    /// Plans the entry for `disk`; `current` is the firmware's table as read before the install (UEFI only).
    public init(firmware: Firmware, disk: String, espPartition: Int, current: EFIBootManagerState?,
                label: String = BootEntryPlan.defaultLabel, loader: String = BootEntryPlan.defaultLoader) {
        self.firmware = firmware
        self.disk = disk
        self.espPartition = espPartition
        self.label = label
        self.loader = loader
        staleEntries = firmware == .uefi ? current?.entries(labelled: label) ?? [] : []
    }

    /// UEFI when the kernel shows `/sys/firmware/efi`.
    public static func firmware(_ paths: HostPaths) -> Firmware {
        SysfsFiles.isDirectory(paths.efiDirectory) ? .uefi : .bios
    }

    /// Reads the firmware's boot entries (`efibootmgr -v`).
    /// - Throws: `BootEntryError` when efibootmgr cannot run or fails (no EFI variables, say).
    public static func readState(using runner: any CommandRunner) throws(BootEntryError) -> EFIBootManagerState {
        let command = ["efibootmgr", "-v"]
        let result: CommandResult
        do {
            result = try runner.run(command)
        } catch {
            throw .unavailable(error)
        }
        guard result.status == 0 else {
            throw .commandFailed(command: command, status: result.status, message: result.lastMessage)
        }
        return EFIBootManagerState(parsing: result.standardOutput)
    }

    /// The deletions of stale entries, in order.
    public var deleteCommands: [[String]] {
        staleEntries.map { ["efibootmgr", "--bootnum", $0.number, "--delete-bootnum"] }
    }

    /// The creation of the new entry (efibootmgr adds it to the front of `BootOrder`).
    public var createCommand: [String] {
        ["efibootmgr", "--create", "--disk", disk, "--part", String(espPartition), "--label", label, "--loader", loader]
    }

    /// The plan in words, one line per step.
    public var steps: [String] {
        guard firmware == .uefi else {
            return ["BIOS firmware: no boot entry to set (the image's boot code in its first sectors is what the BIOS runs)"]
        }
        return staleEntries.map { entry in
            "delete the stale boot entry Boot\(entry.number) \"\(entry.label)\": " + ["efibootmgr", "--bootnum", entry.number, "--delete-bootnum"].joined(separator: " ")
        } + [
            "create the boot entry \"\(label)\" for \(disk) partition \(espPartition), loader \(loader): "
                + createCommand.joined(separator: " "),
            "make it first in BootOrder (efibootmgr --bootorder <new>,<others> if the firmware did not)",
        ]
    }

    /// Runs the plan. Returns the new entry's number (`nil` under BIOS).
    /// - Throws: `BootEntryError` naming the command that failed.
    @discardableResult
    public func apply(using runner: any CommandRunner) throws(BootEntryError) -> String? {
        guard firmware == .uefi else { return nil }
        for command in deleteCommands { try run(command, runner) }
        let before = Set(try Self.readState(using: runner).entries.map(\.number))
        let created = EFIBootManagerState(parsing: try run(createCommand, runner).standardOutput)
        var state = created.entries.contains(where: { $0.label == label && !before.contains($0.number) })
            ? created : try Self.readState(using: runner)
        guard let entry = state.entries(labelled: label).first(where: { !before.contains($0.number) }) else {
            throw .entryMissing(label: label)
        }
        if state.bootOrder.first != entry.number {
            let order = [entry.number] + state.bootOrder.filter { $0 != entry.number }
            try run(["efibootmgr", "--bootorder", order.joined(separator: ",")], runner)
            state = try Self.readState(using: runner)
            guard state.bootOrder.first == entry.number else {
                throw .commandFailed(command: ["efibootmgr", "--bootorder", order.joined(separator: ",")], status: 0,
                                     message: "BootOrder is still \(state.bootOrder.joined(separator: ","))")
            }
        }
        return entry.number
    }

    @discardableResult
    private func run(_ command: [String], _ runner: any CommandRunner) throws(BootEntryError) -> CommandResult {
        let result: CommandResult
        do {
            result = try runner.run(command)
        } catch {
            throw .unavailable(error)
        }
        guard result.status == 0 else {
            throw .commandFailed(command: command, status: result.status, message: result.lastMessage)
        }
        return result
    }
}
