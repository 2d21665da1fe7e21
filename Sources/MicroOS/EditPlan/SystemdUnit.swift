/// A validated systemd unit name: `caddy.service`, `getty@.service` (a template), `getty@tty1.service` (an instance).
public struct UnitName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Unit type suffixes systemd knows.
    public static let suffixes: Set<String> = [
        "service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope",
    ]

    private static let allowedCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@")

    public let rawValue: String

    /// Accepts a full unit name only (`caddy.service`).
    public init(validating name: String) throws {
        let invalid = { (reason: String) in EditPlanError.invalidUnitName(name: name, reason: reason) }
        guard !name.isEmpty else { throw invalid("empty") }
        guard name.utf8.count <= 255 else { throw invalid("longer than 255 bytes") }
        guard let dot = name.lastIndex(of: "."), Self.suffixes.contains(String(name[name.index(after: dot)...])) else {
            throw invalid("no unit type suffix such as .service or .target")
        }
        let stem = name[..<dot]
        if let bad = stem.first(where: { !Self.allowedCharacters.contains($0) }) {
            throw invalid("character \"\(bad)\" not allowed")
        }
        let ats = stem.filter { $0 == "@" }.count
        guard ats <= 1 else { throw invalid("more than one '@'") }
        if ats == 1, stem.first == "@" { throw invalid("nothing before '@'") }
        if ats == 0, stem.isEmpty { throw invalid("nothing before the suffix") }
        rawValue = name
    }

    /// Accepts what a user types: `caddy` means `caddy.service`; a name with a known unit suffix is kept.
    public init(normalizing name: String) throws {
        let trimmed = name.trimmingWhitespace
        if let dot = trimmed.lastIndex(of: "."), Self.suffixes.contains(String(trimmed[trimmed.index(after: dot)...])) {
            try self.init(validating: trimmed)
        } else {
            do {
                try self.init(validating: trimmed + ".service")
            } catch EditPlanError.invalidUnitName(_, let reason) {
                throw EditPlanError.invalidUnitName(name: name, reason: reason)
            }
        }
    }

    public var description: String { rawValue }

    /// `service` for `caddy.service`.
    public var suffix: String { String(rawValue[rawValue.index(after: rawValue.lastIndex(of: ".")!)...]) }

    /// The name without its suffix (`getty@tty1` for `getty@tty1.service`): systemd's `%N`.
    public var stem: String { String(rawValue[..<rawValue.lastIndex(of: ".")!]) }

    /// The part before `@`, or the stem for a plain unit: systemd's `%p`.
    public var prefix: String {
        let stem = stem
        return stem.firstIndex(of: "@").map { String(stem[..<$0]) } ?? stem
    }

    /// The instance: `nil` for a plain unit, `""` for a template, `tty1` for `getty@tty1.service`.
    public var instance: String? {
        let stem = stem
        return stem.firstIndex(of: "@").map { String(stem[stem.index(after: $0)...]) }
    }

    public var isTemplate: Bool { instance == "" }

    /// For an instance, its template (`getty@.service`); `nil` otherwise.
    public var template: UnitName? {
        guard let instance, !instance.isEmpty else { return nil }
        return try? UnitName(validating: prefix + "@." + suffix)
    }

    /// For a template, its instance `name` (`getty@tty1.service`).
    public func instantiated(_ name: String) throws -> UnitName {
        try UnitName(validating: prefix + "@" + name + "." + suffix)
    }

    /// Whether `name` (a file name) looks like a unit: it ends in a known suffix.
    public static func hasUnitSuffix(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        return suffixes.contains(String(name[name.index(after: dot)...]))
    }

    public static func < (a: UnitName, b: UnitName) -> Bool { a.rawValue < b.rawValue }
}

/// What a unit file's `[Install]` section says, for `systemctl enable`-like planning.
///
/// Parsing follows systemd.syntax(7): `#` and `;` start comment lines; a trailing backslash continues a line (the
/// backslash becomes a space; comment lines inside a continuation are skipped); section names and keys are
/// case-sensitive; list keys accumulate over repeated assignments and over repeated `[Install]` sections; an
/// empty assignment (`WantedBy=`) resets the list. Values are split on whitespace; specifiers are kept as written.
public struct UnitInstallSection: Sendable, Equatable, Codable {
    public var wantedBy: [String] = []
    public var requiredBy: [String] = []
    public var alias: [String] = []
    public var also: [String] = []
    /// For a template unit: the instance `systemctl enable foo@.service` enables.
    public var defaultInstance: String?

    public init(wantedBy: [String] = [], requiredBy: [String] = [], alias: [String] = [], also: [String] = [],
                defaultInstance: String? = nil) {
        self.wantedBy = wantedBy
        self.requiredBy = requiredBy
        self.alias = alias
        self.also = also
        self.defaultInstance = defaultInstance
    }

    /// Whether enabling the unit would do nothing: no WantedBy=, RequiredBy=, Alias= or Also=.
    public var isEmpty: Bool { wantedBy.isEmpty && requiredBy.isEmpty && alias.isEmpty && also.isEmpty }

    /// Parses the `[Install]` section of a unit file.
    ///
    /// - Parameter unit: the unit or path named in errors.
    /// - Returns: `nil` when the file has no `[Install]` section.
    /// - Throws: `EditPlanError.unitSyntax` for a malformed section header, or a line without `=` inside `[Install]`.
    public static func parse(_ text: String, unit: String) throws -> UnitInstallSection? {
        var section = UnitInstallSection()
        var hasSection = false
        var current: String?
        for (number, line) in logicalLines(of: text) {
            if line.first == "[" {
                guard line.last == "]", line.count > 2 else {
                    throw EditPlanError.unitSyntax(unit: unit, line: number, message: "invalid section header \(line)")
                }
                current = String(line.dropFirst().dropLast())
                if current == "Install" { hasSection = true }
                continue
            }
            guard current == "Install" else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw EditPlanError.unitSyntax(unit: unit, line: number, message: "missing '=' in \(line)")
            }
            let key = line[..<equals].trimmingWhitespace
            let value = line[line.index(after: equals)...].trimmingWhitespace
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            switch key {
            case "WantedBy": section.wantedBy = words.isEmpty ? [] : section.wantedBy + words
            case "RequiredBy": section.requiredBy = words.isEmpty ? [] : section.requiredBy + words
            case "Alias": section.alias = words.isEmpty ? [] : section.alias + words
            case "Also": section.also = words.isEmpty ? [] : section.also + words
            case "DefaultInstance": section.defaultInstance = value.isEmpty ? nil : value
            default: continue  // systemd ignores unknown keys (with a warning); so do we.
            }
        }
        return hasSection ? section : nil
    }

    /// Joins continued lines and drops comments and blank lines; each logical line comes with the number of the
    /// physical line it starts on, trimmed.
    private static func logicalLines(of text: String) -> [(Int, String)] {
        var body = Substring(text)
        if body.first == "\u{FEFF}" { body = body.dropFirst() }
        var result: [(Int, String)] = []
        var pending: (start: Int, text: String)?
        var number = 0
        // "\r\n" is one Character in Swift: split on both spellings of a line end.
        for line in body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let trimmed = line.trimmingWhitespace
            // Blank and comment lines are skipped, also in the middle of a continuation.
            if trimmed.isEmpty || trimmed.first == "#" || trimmed.first == ";" { continue }
            let trailingBackslashes = line.reversed().prefix { $0 == "\\" }.count
            let continues = trailingBackslashes % 2 == 1
            let content = continues ? String(line.dropLast()) + " " : String(line)
            if var open = pending {
                open.text += content
                pending = open
            } else {
                pending = (number, content)
            }
            if !continues, let done = pending {
                result.append((done.start, done.text.trimmingWhitespace))
                pending = nil
            }
        }
        if let done = pending { result.append((done.start, done.text.trimmingWhitespace)) }
        return result
    }
}

fileprivate extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line ends.
    var trimmingWhitespace: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" || c == "\r" || c == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
