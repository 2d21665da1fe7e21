/// Setting the UEFI boot entry failed.
public enum BootEntryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// efibootmgr could not be started.
    case unavailable(CommandError)
    /// A command exited with an error.
    case commandFailed(command: [String], status: Int32, message: String)
    /// efibootmgr reported success but the new entry is not in its listing.
    case entryMissing(label: String)

    public var description: String {
        switch self {
        case .unavailable(let error):
            "cannot run efibootmgr: \(error.reason); without it the installed disk gets no UEFI boot entry"
        case .commandFailed(let command, let status, let message):
            "\(command.joined(separator: " ")) exited with status \(status): \(message)"
        case .entryMissing(let label):
            "efibootmgr created no entry labelled \"\(label)\" (the firmware may have refused the variable)"
        }
    }
}
