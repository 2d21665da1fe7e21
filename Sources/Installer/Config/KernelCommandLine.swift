/// The kernel command line (`/proc/cmdline`) and the installer's `emts.*` arguments on it.
///
/// - `emts.install=0` (also `no`, `false`, `off`) turns the installer off: the boot menu's "EMT-S shell, no
///   install" entry adds it. `emts.install=1` (`yes`, `true`, `on`) is the default.
/// - `emts.target=<device>` overrides the configuration's `target`.
/// - `emts.medium=<build id>` names the medium the machine booted from (the boot menu adds it).
///
/// When an argument is given more than once, the last one counts, as for the kernel's own arguments.
public struct KernelCommandLine: Sendable, Equatable {
    /// The arguments, split as the kernel splits them (double quotes group, and are removed). Arguments
    /// after a lone `--` belong to init and are not included.
    public let arguments: [String]

    /// Whether the installer should run.
    public let installEnabled: Bool
    /// The argument that turned the installer off, such as `emts.install=0`.
    public let installSwitch: String?
    /// `emts.target=`, when given.
    public let target: TargetSelector?
    /// `emts.medium=`, when given.
    public let mediumBuildID: String?

    /// Parses the text of `/proc/cmdline`.
    /// - Throws: `InstallerConfigError.kernelArgument` for an `emts.*` argument that cannot be used.
    public init(parsing text: String) throws(InstallerConfigError) {
        arguments = Self.split(text)

        var enabled = true
        var switchArgument: String?
        if let value = Self.lastValue(of: "emts.install", in: arguments) {
            switch value.lowercased() {
            case "0", "no", "false", "off":
                enabled = false
                switchArgument = "emts.install=\(value)"
            case "1", "yes", "true", "on":
                enabled = true
            default:
                throw .kernelArgument(argument: "emts.install=\(value)", message: "use emts.install=0 or emts.install=1")
            }
        }
        installEnabled = enabled
        installSwitch = switchArgument

        if let value = Self.lastValue(of: "emts.target", in: arguments) {
            do {
                target = try TargetSelector(parsing: value)
            } catch {
                throw .kernelArgument(argument: "emts.target=\(value)", message: error.description)
            }
        } else {
            target = nil
        }

        if let value = Self.lastValue(of: "emts.medium", in: arguments) {
            guard !value.isEmpty,
                  value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw .kernelArgument(argument: "emts.medium=\(value)",
                                      message: "a build id is ASCII letters, digits, '.', '_' and '-'")
            }
            mediumBuildID = value
        } else {
            mediumBuildID = nil
        }
    }

    /// The value of the last `key=value` argument; "" for a bare `key`.
    public func value(of key: String) -> String? { Self.lastValue(of: key, in: arguments) }

    private static func lastValue(of key: String, in arguments: [String]) -> String? {
        for argument in arguments.reversed() {
            if argument == key { return "" }
            if argument.hasPrefix(key + "=") { return String(argument.dropFirst(key.count + 1)) }
        }
        return nil
    }

    /// Splits at white space outside double quotes and drops the quotes, as the kernel's `next_arg` does.
    private static func split(_ text: String) -> [String] {
        var arguments: [String] = []
        var current = ""
        var inQuotes = false
        var started = false
        for character in text {
            if character == "\"" {
                inQuotes.toggle()
                started = true
            } else if character.isWhitespace && !inQuotes {
                if started { arguments.append(current) }
                current = ""
                started = false
            } else {
                current.append(character)
                started = true
            }
        }
        if started { arguments.append(current) }
        if let end = arguments.firstIndex(of: "--") { arguments.removeSubrange(end...) }
        return arguments
    }
}
