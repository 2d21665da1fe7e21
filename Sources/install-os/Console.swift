import Foundation
import Installer

/// Where install-os's words go: standard output (the journal under systemd), errors and warnings to
/// standard error, every line also to the `--console` devices (tty1, ttyS0), and progress redrawn in place
/// when standard output is a terminal. With `--json`, standard output carries only the JSON document and
/// the messages go to standard error.
final class Console: @unchecked Sendable {
    /// Standard output is a terminal: progress is redrawn in place.
    let isTerminal: Bool
    private let json: Bool
    private let lock = NSLock()
    private var mirrors: [FileHandle] = []
    private var redrawn = false

    init(json: Bool, consoles: [String]) {
        self.json = json
        isTerminal = isatty(STDOUT_FILENO) == 1 && !json
        for path in consoles {
            // O_NOCTTY: never become the console's controlling process; a port without hardware fails here.
            let descriptor = open(path, O_WRONLY | O_NOCTTY | O_APPEND | O_CLOEXEC)
            if descriptor >= 0 {
                mirrors.append(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
            } else {
                FileHandle.standardError.write(Data("install-os: not writing to \(path): \(String(cString: strerror(errno)))\n".utf8))
            }
        }
    }

    /// One message line.
    func line(_ text: String, level: InstallLog.Level) {
        lock.withLock {
            let data = Data((text + "\n").utf8)
            if redrawn {
                FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
                redrawn = false
            }
            if json || level >= .warning {
                FileHandle.standardError.write(data)
            } else {
                FileHandle.standardOutput.write(data)
            }
            for mirror in mirrors { try? mirror.write(contentsOf: data) }
        }
    }

    /// Redraws the progress line in place (terminal only).
    func redraw(_ text: String) {
        lock.withLock {
            FileHandle.standardOutput.write(Data("\r\(text)\u{1B}[K".utf8))
            redrawn = true
        }
    }

    /// Plain text on standard output (the dry-run plan, the disk table).
    func print(_ text: String) {
        lock.withLock { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    }

    /// `value` as pretty JSON on standard output.
    func printJSON(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            line("cannot encode the output as JSON", level: .error)
            return
        }
        lock.withLock { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
    }
}
