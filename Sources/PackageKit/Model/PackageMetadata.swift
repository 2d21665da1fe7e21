/// What a package says about itself, in the same shape for both formats: the input of the resolver.
public struct PackageMetadata: Sendable, Hashable, CustomStringConvertible {
    public var format: PackageFormat
    public var name: String
    public var version: PackageVersion
    /// As the package spells it: `x86_64`, `noarch`, `amd64`, `all`.
    public var architecture: String
    /// Explicit provides, as recorded (RPM records the package's own name too; Debian does not).
    public var provides: [PackageProvide]
    /// RPM requires, or Debian Pre-Depends followed by Depends.
    public var requirements: [Requirement]
    /// Absolute paths the package installs as far as its metadata lists them: RPM's header file list.
    /// Empty for a `.deb`, whose file list lives only in its data archive.
    public var files: [String]

    public init(format: PackageFormat, name: String, version: PackageVersion, architecture: String,
                provides: [PackageProvide] = [], requirements: [Requirement] = [], files: [String] = []) {
        self.format = format
        self.name = name
        self.version = version
        self.architecture = architecture
        self.provides = provides
        self.requirements = requirements
        self.files = files
    }

    /// Everything the package answers to: its own name at its own version, then its provides.
    public var allProvides: [PackageProvide] {
        [PackageProvide(name: name, version: version)] + provides
    }

    /// `name-version-release.arch` (RPM) or `name_version_arch` (Debian), as the formats name their files.
    public var description: String {
        switch format {
        case .rpm: "\(name)-\(version).\(architecture)"
        case .deb: "\(name)_\(version)_\(architecture)"
        }
    }
}
