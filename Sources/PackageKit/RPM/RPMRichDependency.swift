/// RPM's boolean ("rich") dependencies, as far as they map onto requirements: a flat `(a or b or c)` is one
/// requirement with alternatives, a flat `(a and b)` is one requirement per term. Anything else (nesting,
/// `if`, `unless`, `with`, `without`, mixed operators) stays one opaque dependency, which nothing provides:
/// the resolver then reports it rather than guessing.
enum RPMRichDependency {
    static func requirements(for dependency: Dependency) -> [Requirement] {
        let opaque = [Requirement(.requires, [dependency])]
        guard dependency.name.hasPrefix("("), dependency.name.hasSuffix(")"), dependency.name.count > 2 else {
            return opaque
        }
        let inner = dependency.name.dropFirst().dropLast()
        let tokens = inner.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !tokens.contains(where: { $0.hasPrefix("(") && !$0.contains(")") }) else { return opaque }

        var terms: [Dependency] = []
        var conjunction: String?
        var index = 0
        while index < tokens.count {
            let name = tokens[index]
            guard !["or", "and", "if", "else", "unless", "with", "without"].contains(name) else { return opaque }
            var constraint: VersionConstraint?
            if index + 2 < tokens.count, let relation = relation(tokens[index + 1]) {
                constraint = VersionConstraint(relation, PackageVersion(parsing: tokens[index + 2], format: .rpm))
                index += 3
            } else {
                index += 1
            }
            terms.append(Dependency(name: name, constraint: constraint))
            guard index < tokens.count else { break }
            let word = tokens[index]
            guard word == "or" || word == "and", conjunction == nil || conjunction == word else { return opaque }
            conjunction = word
            index += 1
            guard index < tokens.count else { return opaque }
        }
        guard !terms.isEmpty else { return opaque }
        return conjunction == "and" ? terms.map { Requirement(.requires, [$0]) } : [Requirement(.requires, terms)]
    }

    private static func relation(_ token: String) -> VersionConstraint.Relation? {
        switch token {
        case "<": .less
        case "<=": .lessOrEqual
        case "=", "==": .equal
        case ">=": .greaterOrEqual
        case ">": .greater
        default: nil
        }
    }
}
