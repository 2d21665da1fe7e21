/// Why the installer configuration cannot be used. Every case names the file (or kernel argument), the key
/// and, for YAML files, the line, so a field engineer can fix the file on the stick without guessing.
public enum InstallerConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file exists but cannot be read, is too large, or is not UTF-8 text.
    case unreadable(file: String, reason: String)
    /// The file is not valid YAML.
    case syntax(file: String, line: Int?, message: String)
    /// A key the installer does not know (a typo, or a key of a newer installer). `key` is dotted for nested
    /// keys; `suggestion` is a known key of the same section that looks alike.
    case unknownKey(file: String, key: String, line: Int?, known: [String], suggestion: String?)
    /// A key given twice in one mapping; `line` is where the mapping is.
    case duplicateKey(file: String, key: String, line: Int?)
    /// A value of the wrong YAML type (a list where a string belongs, text where a number belongs, ...).
    case wrongType(file: String, key: String, line: Int?, expected: String, found: String)
    /// A value of the right type that the installer does not accept.
    case invalidValue(file: String, key: String, line: Int?, message: String)
    /// A line of a legacy `config-file` that is neither `KEY="value"`, a comment nor blank.
    case malformedLine(file: String, line: Int, message: String)
    /// An `emts.*` argument on the kernel command line that cannot be used.
    case kernelArgument(argument: String, message: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): \(reason)"
        case .syntax(let file, let line, let message):
            "\(Self.place(file, line)): not valid YAML: \(message)"
        case .unknownKey(let file, let key, let line, let known, let suggestion):
            "\(Self.place(file, line)): unknown key \"\(key)\""
                + (suggestion.map { " (did you mean \"\($0)\"?)" } ?? "")
                + (known.isEmpty ? "" : "; known keys here: " + known.joined(separator: ", "))
        case .duplicateKey(let file, let key, let line):
            "\(Self.place(file, line)): key \"\(key)\" given more than once"
        case .wrongType(let file, let key, let line, let expected, let found):
            "\(Self.place(file, line)): \(key) must be \(expected), not \(found)"
        case .invalidValue(let file, let key, let line, let message):
            "\(Self.place(file, line)): \(key): \(message)"
        case .malformedLine(let file, let line, let message):
            "\(file):\(line): \(message)"
        case .kernelArgument(let argument, let message):
            "kernel command line: \(argument): \(message)"
        }
    }

    private static func place(_ file: String, _ line: Int?) -> String {
        line.map { "\(file):\($0)" } ?? file
    }
}
