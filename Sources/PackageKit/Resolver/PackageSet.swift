/// What the resolver decided: the packages to install in order, the requested ones already present, and
/// what could not be satisfied (only when missing dependencies are allowed).
public struct PackageSet: Sendable {
    /// Packages to install, every package after the packages it depends on (cycles in any order).
    public var packages: [PackageArchive]
    /// Requested packages the root already has.
    public var skipped: [SkippedPackage]
    /// Requirements nothing satisfies; empty unless `ResolveOptions.allowMissing` was set.
    public var missing: [MissingDependency]
    /// Things the caller should show the user: missing dependencies allowed through, installed packages
    /// the chosen ones replace.
    public var warnings: [String]

    public init(packages: [PackageArchive] = [], skipped: [SkippedPackage] = [], missing: [MissingDependency] = [],
                warnings: [String] = []) {
        self.packages = packages
        self.skipped = skipped
        self.missing = missing
        self.warnings = warnings
    }
}

/// A requested package not installed because the root already has it.
public struct SkippedPackage: Sendable, Hashable, CustomStringConvertible {
    /// The name as requested.
    public var name: String
    /// The installed package that has it (the package itself, or one providing the name).
    public var installed: InstalledPackage

    public init(name: String, installed: InstalledPackage) {
        self.name = name
        self.installed = installed
    }

    public var description: String {
        installed.name == name ? "\(name): already present (\(installed.version))"
            : "\(name): already present (provided by \(installed))"
    }
}
