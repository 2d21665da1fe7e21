/// Decoding helpers shared by the sections of the installed system's configuration: a value is checked as it is
/// decoded, and a refused list entry is named with its index (`ntp[2]`), so the error lands on its line.
extension KeyedDecodingContainer {
    /// A text value checked by `check` (which returns the message for a value it refuses).
    func decodeText(_ key: Key, checkedBy check: (String) -> String? = { _ in nil }) throws -> String? {
        guard let value = try decodeIfPresent(String.self, forKey: key) else { return nil }
        if let message = check(value) { throw invalid(key, message) }
        return value
    }

    /// A list of texts, each checked by `check`.
    func decodeTextList(_ key: Key, checkedBy check: (String) -> String? = { _ in nil }) throws -> [String]? {
        guard let values = try decodeIfPresent([String].self, forKey: key) else { return nil }
        for (index, value) in values.enumerated() {
            if let message = check(value) { throw invalid(key, index: index, message) }
        }
        return values
    }

    /// A whole number in `range`.
    func decodeInt(_ key: Key, in range: ClosedRange<Int>, _ message: String) throws -> Int? {
        guard let value = try decodeIfPresent(Int.self, forKey: key) else { return nil }
        guard range.contains(value) else { throw invalid(key, message) }
        return value
    }

    /// Refuses the list entry at `index` of `key`.
    func invalid(_ key: Key, index: Int, _ message: String) -> ConfigDecodingProblem {
        ConfigDecodingProblem(path: configPath(codingPath) + [key.stringValue, "[\(index)]"], kind: .invalidValue(message))
    }

    /// Refuses the presence of `key` in a section that can never take it (a plain `password`).
    func refuse(_ name: String, _ message: String) -> ConfigDecodingProblem {
        ConfigDecodingProblem(path: configPath(codingPath) + [name], kind: .invalidValue(message))
    }
}

extension Decoder {
    /// The names of the keys this mapping was given, known or not.
    func givenKeys() throws -> [String] {
        try container(keyedBy: AnyConfigKey.self).allKeys.map(\.stringValue)
    }
}

/// A section of the installed system's configuration: every key optional; a later file's section overrides an
/// earlier one's key by key.
protocol ConfigSection: Sendable, Equatable {
    /// This file's keys over `earlier`'s: each key this section sets wins, the others are kept.
    func merged(over earlier: Self?) -> Self
    /// The keys set, as dotted names below the section (`dns`, `services.enable`).
    var keysSet: [String] { get }
}

extension Optional where Wrapped: ConfigSection {
    /// `later` over `self`.
    func overridden(by later: Wrapped?) -> Wrapped? {
        guard let later, !later.keysSet.isEmpty else { return self }
        return later.merged(over: self)
    }
}
