/// A version bound of a dependency: `>= 1.2`, `<< 2.0`, `= 1:3.1-4`.
public struct VersionConstraint: Sendable, Hashable, CustomStringConvertible {
    /// How the candidate's version must relate to `version`.
    public enum Relation: String, Sendable, Hashable, Codable, CaseIterable {
        case less, lessOrEqual, equal, greaterOrEqual, greater

        /// The operator as the format writes it (dpkg spells strict bounds `<<` and `>>`).
        public func symbol(for format: PackageFormat) -> String {
            switch self {
            case .less: format == .deb ? "<<" : "<"
            case .lessOrEqual: "<="
            case .equal: "="
            case .greaterOrEqual: ">="
            case .greater: format == .deb ? ">>" : ">"
            }
        }
    }

    public var relation: Relation
    public var version: PackageVersion

    public init(_ relation: Relation, _ version: PackageVersion) {
        self.relation = relation
        self.version = version
    }

    /// Whether `candidate` meets the bound, compared by the bound's format's rules.
    public func isSatisfied(by candidate: PackageVersion) -> Bool {
        var candidate = candidate
        candidate.format = version.format
        let order = candidate.compare(to: version)
        switch relation {
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .equal: return order == 0
        case .greaterOrEqual: return order >= 0
        case .greater: return order > 0
        }
    }

    public var description: String { "\(relation.symbol(for: version.format)) \(version)" }
}
