import Foundation

/// Runs commands as child processes, with a fixed `PATH` and the C locale (so output parses the same
/// everywhere), capturing standard output and standard error.
public struct ProcessRunner: CommandRunner {
    /// Where programs are looked up.
    public static let searchPath = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    public init() {}

    public func run(_ arguments: [String]) throws(CommandError) -> CommandResult {
        guard let program = arguments.first else {
            throw CommandError(command: arguments, reason: "no program given")
        }
        guard let executable = Self.locate(program) else {
            throw CommandError(command: arguments,
                               reason: "\(program) not found in \(Self.searchPath.joined(separator: ":"))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.environment = ["PATH": Self.searchPath.joined(separator: ":"), "LC_ALL": "C"]
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CommandError(command: arguments, reason: "cannot start: \(error.localizedDescription)")
        }
        // Standard error is drained on another thread so a chatty command cannot fill one pipe and stall.
        let errorText = ErrorCollector()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorText.set(error.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             standardOutput: String(decoding: outputData, as: UTF8.self),
                             standardError: String(decoding: errorText.data, as: UTF8.self))
    }

    static func locate(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        return searchPath.map { $0 + "/" + program }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

private final class ErrorCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected = Data()

    func set(_ data: Data) { lock.withLock { collected = data } }
    var data: Data { lock.withLock { collected } }
}
