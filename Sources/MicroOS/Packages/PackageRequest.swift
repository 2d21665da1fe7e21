/// Packages to inject into the µOS root: `emts-iso build --packages DIR --install NAME [--allow-missing-deps]`.
///
/// The names and their dependency closure are resolved against what the root already has
/// (`EditPlan.resolve(_:against:)`); the packages come from the `*.rpm` and `*.deb` files of `directory`.
public struct PackageRequest: Codable, Sendable, Equatable {
    /// The tools an install medium needs and older µOS builds lack.
    public static let defaultNames = ["efibootmgr", "gawk", "lvm2", "net-tools", "parted"]

    /// The local repository: a directory of package files (not searched recursively).
    public var directory: String
    /// Package names (or names a package provides) to install, in order.
    public var names: [String]
    /// Report unresolvable dependencies as warnings instead of refusing the plan.
    public var allowMissingDependencies: Bool

    public init(directory: String, names: [String] = PackageRequest.defaultNames, allowMissingDependencies: Bool = false) {
        self.directory = directory
        self.names = names
        self.allowMissingDependencies = allowMissingDependencies
    }
}
