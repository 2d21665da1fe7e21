/// A requirement nothing satisfies: what is needed, by whom, and why no package fits.
public struct MissingDependency: Sendable, Hashable, CustomStringConvertible {
    /// Who asked for the requirement.
    public enum Requester: Sendable, Hashable, CustomStringConvertible {
        /// The caller's list of packages to install.
        case request
        /// A package chosen for installation, as `name-version.arch` / `name_version_arch`.
        case package(String)

        public var description: String {
            switch self {
            case .request: "the request"
            case .package(let name): name
            }
        }
    }

    public var requirement: Requirement
    public var neededBy: Requester
    /// Why nothing fits, in words ("the repository has beta 0.9-1, which does not satisfy >= 1.0").
    public var reason: String

    public init(requirement: Requirement, neededBy: Requester, reason: String) {
        self.requirement = requirement
        self.neededBy = neededBy
        self.reason = reason
    }

    public var description: String { "\(requirement), needed by \(neededBy): \(reason)" }
}
