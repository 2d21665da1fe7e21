/// Debian's relationship fields (Depends, Pre-Depends, Provides): comma-separated entries, `|` between
/// alternatives, each `name[:arch] [(op version)] [[arch list]] [<profiles>]`.
enum DebianRelations {
    /// An entry that is not a relation.
    struct SyntaxError: Error, Sendable {
        var message: String
    }

    /// Parses a Depends or Pre-Depends value.
    static func requirements(_ text: String, kind: Requirement.Kind) throws(SyntaxError) -> [Requirement] {
        var result: [Requirement] = []
        for entry in text.split(separator: ",") where !entry.trimmedBlanks.isEmpty {
            var alternatives: [Dependency] = []
            for alternative in entry.split(separator: "|", omittingEmptySubsequences: false) {
                alternatives.append(try dependency(alternative))
            }
            result.append(Requirement(kind, alternatives))
        }
        return result
    }

    /// Parses a Provides value: names, each with an optional `(= version)`.
    static func provides(_ text: String) throws(SyntaxError) -> [PackageProvide] {
        var result: [PackageProvide] = []
        for entry in text.split(separator: ",") where !entry.trimmedBlanks.isEmpty {
            let relation = try dependency(entry)
            if let constraint = relation.constraint, constraint.relation != .equal {
                throw SyntaxError(message: "\"\(entry.trimmedBlanks)\": a provide can only carry \"= version\"")
            }
            result.append(PackageProvide(name: relation.name, version: relation.constraint?.version))
        }
        return result
    }

    /// One relation: `libc6:any (>= 2.36) [amd64] <!nocheck>`. Architecture lists and build profiles only
    /// appear in source packages; they are accepted and dropped.
    static func dependency(_ text: Substring) throws(SyntaxError) -> Dependency {
        let trimmed = text.trimmedBlanks
        guard !trimmed.isEmpty else { throw SyntaxError(message: "an empty alternative") }
        let nameEnd = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "(" || $0 == "[" || $0 == "<" })
            ?? trimmed.endIndex
        var name = String(trimmed[..<nameEnd])
        var qualifier: String?
        if let colon = name.firstIndex(of: ":") {
            qualifier = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        guard !name.isEmpty, qualifier?.isEmpty != true else {
            throw SyntaxError(message: "\"\(trimmed)\" has no package name")
        }
        var rest = trimmed[nameEnd...].trimmedBlanks
        var constraint: VersionConstraint?
        if rest.hasPrefix("(") {
            guard let close = rest.firstIndex(of: ")") else {
                throw SyntaxError(message: "\"\(trimmed)\": unclosed version constraint")
            }
            constraint = try versionConstraint(rest[rest.index(after: rest.startIndex) ..< close], in: trimmed)
            rest = rest[rest.index(after: close)...].trimmedBlanks
        }
        while !rest.isEmpty {
            let closing: Character = rest.hasPrefix("[") ? "]" : (rest.hasPrefix("<") ? ">" : "?")
            guard closing != "?", let close = rest.firstIndex(of: closing) else {
                throw SyntaxError(message: "\"\(trimmed)\": unexpected \"\(rest)\"")
            }
            rest = rest[rest.index(after: close)...].trimmedBlanks
        }
        return Dependency(name: name, constraint: constraint, architectureQualifier: qualifier)
    }

    private static func versionConstraint(_ text: Substring, in relation: String) throws(SyntaxError) -> VersionConstraint {
        let body = text.trimmedBlanks
        let operators: [(String, VersionConstraint.Relation)] = [
            ("<<", .less), ("<=", .lessOrEqual), (">=", .greaterOrEqual), (">>", .greater), ("=", .equal),
            // Obsolete spellings dpkg still accepts: "<" means "<=", ">" means ">=".
            ("<", .lessOrEqual), (">", .greaterOrEqual),
        ]
        guard let (symbol, relationKind) = operators.first(where: { body.hasPrefix($0.0) }) else {
            throw SyntaxError(message: "\"\(relation)\": the version constraint has no operator")
        }
        let version = body.dropFirst(symbol.count).trimmedBlanks
        guard !version.isEmpty, !version.contains(" ") else {
            throw SyntaxError(message: "\"\(relation)\": invalid version \"\(version)\"")
        }
        return VersionConstraint(relationKind, PackageVersion(parsing: version, format: .deb))
    }
}
