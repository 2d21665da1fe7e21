import ArgumentParser
import CCrypt
import Foundation

/// `emts-iso hash-password`: the SHA-512 crypt hash for `installer.yaml`'s `user.password_hash`.
struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Print the SHA-512 crypt hash of a password, for user.password_hash in installer.yaml.",
        discussion: """
        Asks for the password twice on the terminal, without echo (or reads one line from standard input with \
        --stdin), and prints its hash ($6$rounds=N$salt$hash, made by libxcrypt with a random salt). The password \
        itself is never printed, logged or kept in a file; installer.yaml refuses a plain password key.
        Exit codes: 0 hash printed, 1 no password (empty, too long, the two entries differ, no terminal).
        """)

    @Flag(help: "Read the password from standard input (one line) instead of asking on the terminal.")
    var stdin = false

    @Option(help: "SHA-512 rounds (\(PasswordHasher.rounds.lowerBound)-\(PasswordHasher.rounds.upperBound)); more is slower to check and to guess.")
    var rounds: Int = PasswordHasher.defaultRounds

    func validate() throws {
        guard PasswordHasher.rounds.contains(rounds) else {
            throw ValidationError("--rounds must be between \(PasswordHasher.rounds.lowerBound) and "
                                  + "\(PasswordHasher.rounds.upperBound)")
        }
    }

    func run() throws {
        do {
            var password = try stdin ? PasswordInput.line(from: STDIN_FILENO) : PasswordInput.fromTerminal()
            defer { PasswordInput.wipe(&password) }
            print(try PasswordHasher.hash(password, rounds: rounds))
        } catch {
            FileHandle.standardError.write(Data("emts-iso: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Why no hash was made. Never carries the password.
struct PasswordError: Error, CustomStringConvertible, Equatable {
    var description: String
}

/// SHA-512 crypt hashes with libxcrypt: `crypt_gensalt_rn` for the setting, `crypt_rn` for the hash.
enum PasswordHasher {
    /// The rounds libxcrypt accepts for `$6$` (`rounds=` below 1000 is raised to 1000 by it; we refuse it).
    static let rounds = 1000 ... 999_999_999
    /// 100,000 rounds: about a tenth of a second to check on a current CPU, 20 times glibc's default of 5000.
    static let defaultRounds = 100_000
    /// libxcrypt's limit on the passphrase.
    static let maximumBytes = Int(CRYPT_MAX_PASSPHRASE_SIZE) - 1

    /// The hash of `password` with a fresh random salt: `$6$rounds=N$<16 salt characters>$<86 characters>`.
    /// - Throws: `PasswordError` for an empty or too long password, or when libxcrypt fails.
    static func hash(_ password: [UInt8], rounds count: Int) throws(PasswordError) -> String {
        try check(password)
        guard rounds.contains(count) else { throw PasswordError(description: "rounds must be within \(rounds)") }
        var random = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in random.indices { random[index] = generator.next() }
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let settingSize = Int32(setting.count)
        let made = random.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                crypt_gensalt_rn("$6$", UInt(count), chars.baseAddress, Int32(chars.count), &setting, settingSize)
            }
        }
        guard made != nil else {
            throw PasswordError(description: "libxcrypt could not make a SHA-512 salt: \(String(cString: strerror(errno)))")
        }
        let settingText = String(decoding: setting.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let hash = crypt(password, setting: settingText), hash.hasPrefix("$6$") else {
            throw PasswordError(description: "libxcrypt could not hash the password: \(String(cString: strerror(errno)))")
        }
        return hash
    }

    /// Whether `password` gives `hash` (the hash's own setting: salt and rounds).
    static func verify(_ password: [UInt8], against hash: String) -> Bool {
        guard let computed = crypt(password, setting: hash) else { return false }
        return computed == hash
    }

    /// Refuses what cannot be a password.
    static func check(_ password: [UInt8]) throws(PasswordError) {
        guard !password.isEmpty else { throw PasswordError(description: "the password is empty; refused") }
        guard password.count <= maximumBytes else {
            throw PasswordError(description: "the password is longer than \(maximumBytes) bytes")
        }
        guard !password.contains(0) else { throw PasswordError(description: "the password contains a NUL byte") }
    }

    /// `crypt_rn` with a zeroed `crypt_data` on the heap (it is 32 KB), wiped and freed after.
    private static func crypt(_ password: [UInt8], setting: String) -> String? {
        let size = MemoryLayout<crypt_data>.size
        guard let data = calloc(1, size) else { return nil }
        defer {
            memset(data, 0, size)
            free(data)
        }
        var phrase = password.map { CChar(bitPattern: $0) } + [0]
        defer { for index in phrase.indices { phrase[index] = 0 } }
        guard let result = crypt_rn(phrase, setting, data, Int32(size)) else { return nil }
        let text = String(cString: result)
        // libxcrypt's failure tokens start with "*".
        return text.hasPrefix("*") ? nil : text
    }
}

/// Reading the password: never echoed, never kept longer than the hashing.
enum PasswordInput {
    /// The longest line read.
    static let lineLimit = 4096

    /// One line from `descriptor` (without its `\n` or `\r\n`).
    /// - Throws: `PasswordError` when nothing could be read.
    static func line(from descriptor: Int32) throws(PasswordError) -> [UInt8] {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count <= lineLimit {
            let count = read(descriptor, &byte, 1)
            if count < 0, errno == EINTR { continue }
            if count < 0 {
                wipe(&line)
                throw PasswordError(description: "cannot read the password: \(String(cString: strerror(errno)))")
            }
            if count == 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        byte = 0
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// Asks twice on the controlling terminal with echo off; the two must match.
    static func fromTerminal() throws(PasswordError) -> [UInt8] {
        let terminal = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard terminal >= 0 else {
            throw PasswordError(description: "no terminal to ask for the password on; use --stdin")
        }
        defer { close(terminal) }
        var first = try ask("Password: ", terminal: terminal)
        defer { wipe(&first) }
        try PasswordHasher.check(first)
        var second = try ask("Password again: ", terminal: terminal)
        defer { wipe(&second) }
        guard first == second else { throw PasswordError(description: "the two passwords differ; nothing printed") }
        return first
    }

    /// One line read with echo off; the terminal's settings are restored after, and on Ctrl-C.
    private static func ask(_ prompt: String, terminal: Int32) throws(PasswordError) -> [UInt8] {
        var saved = termios()
        guard tcgetattr(terminal, &saved) == 0 else {
            throw PasswordError(description: "standard input's terminal cannot turn echo off; use --stdin")
        }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        quiet.c_lflag |= tcflag_t(ICANON)
        TerminalRestore.arm(terminal, saved)
        defer {
            tcsetattr(terminal, TCSAFLUSH, &saved)
            TerminalRestore.disarm()
        }
        _ = Array(prompt.utf8).withUnsafeBytes { write(terminal, $0.baseAddress, $0.count) }
        guard tcsetattr(terminal, TCSAFLUSH, &quiet) == 0 else {
            throw PasswordError(description: "cannot turn the terminal's echo off; use --stdin")
        }
        let entered = try line(from: terminal)
        _ = write(terminal, "\n", 1)
        return entered
    }

    /// Overwrites the bytes before they are released.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { memset(base, 0, buffer.count) }
        }
        bytes.removeAll()
    }
}

/// Puts the terminal's echo back when Ctrl-C ends the program while it is off.
private enum TerminalRestore {
    nonisolated(unsafe) static var descriptor: Int32 = -1
    nonisolated(unsafe) static var settings = termios()
    nonisolated(unsafe) static var previous: sighandler_t?

    static func arm(_ terminal: Int32, _ saved: termios) {
        descriptor = terminal
        settings = saved
        previous = signal(SIGINT) { signal in
            if TerminalRestore.descriptor >= 0 {
                tcsetattr(TerminalRestore.descriptor, TCSANOW, &TerminalRestore.settings)
                _ = write(TerminalRestore.descriptor, "\n", 1)
            }
            _exit(128 + signal)
        }
    }

    static func disarm() {
        signal(SIGINT, previous ?? SIG_DFL)
        descriptor = -1
    }
}
