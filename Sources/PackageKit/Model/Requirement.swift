/// One requirement of a package: any one of its alternatives satisfies it (Debian's `a | b`; an RPM rich
/// dependency `(a or b)`; a plain RPM require has one alternative).
public struct Requirement: Sendable, Hashable, CustomStringConvertible {
    /// Where the requirement comes from.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// An RPM `Requires:` (including `Requires(pre)` and the like).
        case requires
        /// A Debian `Depends:`.
        case depends
        /// A Debian `Pre-Depends:`: must be configured before the package is unpacked.
        case preDepends
    }

    public var kind: Kind
    /// At least one entry.
    public var alternatives: [Dependency]

    public init(_ kind: Kind, _ alternatives: [Dependency]) {
        self.kind = kind
        self.alternatives = alternatives
    }

    /// Whether rpm itself satisfies the requirement (every alternative is an `rpmlib(...)` feature).
    public var isRPMLibFeature: Bool { !alternatives.isEmpty && alternatives.allSatisfy(\.isRPMLibFeature) }

    public var description: String { alternatives.map(\.description).joined(separator: " | ") }
}
