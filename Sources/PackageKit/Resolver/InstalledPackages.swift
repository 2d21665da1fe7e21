/// What the target root already has, as the resolver needs to see it. Small on purpose, so it can be
/// implemented over any description of a root (dpkg's status file, a root filesystem archive's index).
public protocol InstalledPackages {
    /// The target's package system: decides version rules and which repository packages fit.
    var format: PackageFormat { get }
    /// Installed packages called `name` or providing it.
    func packages(providing name: String) -> [InstalledPackage]
    /// Whether the absolute `path` exists in the target root (file requires, shared libraries).
    func containsFile(atPath path: String) -> Bool
}

/// A package installed in the target root.
public struct InstalledPackage: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var version: PackageVersion
    public var architecture: String?
    public var provides: [PackageProvide]

    public init(name: String, version: PackageVersion, architecture: String? = nil, provides: [PackageProvide] = []) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.provides = provides
    }

    /// Its own name at its version, then its provides.
    public var allProvides: [PackageProvide] { [PackageProvide(name: name, version: version)] + provides }

    /// Whether the package (by name or by a provide) meets `dependency`.
    public func satisfies(_ dependency: Dependency, format: PackageFormat) -> Bool {
        allProvides.contains { $0.satisfies(dependency, format: format) }
    }

    public var description: String { "\(name) \(version)" }
}
