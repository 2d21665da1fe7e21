/// Runs the external tools install-os needs (efibootmgr, systemctl). Injectable: tests record the commands
/// and answer with canned output.
public protocol CommandRunner: Sendable {
    /// Runs `arguments` (the first is the program, looked up on the standard system paths) and waits.
    /// A non-zero exit status is not an error here: it is in the result.
    /// - Throws: `CommandError` when the program cannot be started.
    func run(_ arguments: [String]) throws(CommandError) -> CommandResult
}

/// What a command printed and how it ended.
public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    public init(status: Int32, standardOutput: String = "", standardError: String = "") {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// The last non-empty line of standard error, else of standard output: what to quote in an error.
    public var lastMessage: String {
        for text in [standardError, standardOutput] {
            let lines = text.split(separator: "\n").map { String($0).trimmingWhitespace }
            if let line = lines.last(where: { !$0.isEmpty }) { return line }
        }
        return "no output"
    }
}

/// A command that could not be run, or that failed.
public struct CommandError: Error, CustomStringConvertible, Sendable, Equatable {
    public var command: [String]
    public var reason: String

    public init(command: [String], reason: String) {
        self.command = command
        self.reason = reason
    }

    public var description: String { "\(command.joined(separator: " ")): \(reason)" }
}
