/// A problem found while decoding a configuration section, before it is placed on a line of the file.
///
/// Thrown from `init(from:)` of the configuration types (and of `emts-iso build --spec`'s); `InstallerConfigFile`
/// turns it into an `InstallerConfigError` with the file and the line of the offending key or value.
public struct ConfigDecodingProblem: Error, Sendable {
    public enum Kind: Sendable {
        /// The last path component is a key the section does not know; `known` are the section's keys.
        case unknownKey(known: [String])
        /// The value at the path is of the right type but not acceptable.
        case invalidValue(String)
    }

    /// The coding path of the key or value, as the keys' string values (`"[2]"` for sequence indices).
    public var path: [String]
    public var kind: Kind
}

/// Any key of a YAML mapping, to see every key a section was given, known or not.
struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// The keyed container of a configuration section, refusing every key that `Key` does not list.
    ///
    /// Every section of the configuration (the top level, and later nested ones such as `user:` or
    /// `network:`) decodes itself through this, so a typo anywhere is an error naming the key, never a
    /// silently ignored setting.
    public func strictContainer<Key: CodingKey & CaseIterable>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let everything = try container(keyedBy: AnyConfigKey.self)
        let known = Key.allCases.map(\.stringValue)
        for key in everything.allKeys where !known.contains(key.stringValue) {
            throw ConfigDecodingProblem(path: configPath(codingPath) + [key.stringValue],
                                        kind: .unknownKey(known: known.sorted()))
        }
        return try container(keyedBy: type)
    }
}

extension KeyedDecodingContainer {
    /// Refuses a decoded value: `message` says what is acceptable.
    public func invalid(_ key: Key, _ message: String) -> ConfigDecodingProblem {
        ConfigDecodingProblem(path: configPath(codingPath) + [key.stringValue], kind: .invalidValue(message))
    }
}

extension SingleValueDecodingContainer {
    /// Refuses the decoded value: `message` says what is acceptable.
    public func invalid(_ message: String) -> ConfigDecodingProblem {
        ConfigDecodingProblem(path: configPath(codingPath), kind: .invalidValue(message))
    }
}

/// A coding path as configuration key names.
func configPath(_ codingPath: [any CodingKey]) -> [String] {
    codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
}
