/// A name a package answers to besides its own: `Provides: awk`, `Provides: alpha-tool = 1.2`.
public struct PackageProvide: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// The version provided; nil for an unversioned provide.
    public var version: PackageVersion?

    public init(name: String, version: PackageVersion? = nil) {
        self.name = name
        self.version = version
    }

    /// Whether this provide meets `dependency`: same name, and the version bound (if any) met.
    ///
    /// An unversioned provide meets a versioned RPM dependency (rpm matches a missing version with anything)
    /// but not a versioned Debian one (dpkg requires the provide to carry a version).
    public func satisfies(_ dependency: Dependency, format: PackageFormat) -> Bool {
        guard name == dependency.name else { return false }
        guard let constraint = dependency.constraint else { return true }
        guard let version else { return format == .rpm }
        return constraint.isSatisfied(by: version)
    }

    public var description: String {
        guard let version else { return name }
        return version.format == .deb ? "\(name) (= \(version))" : "\(name) = \(version)"
    }
}
