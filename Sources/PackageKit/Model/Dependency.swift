/// One named dependency, optionally bounded by a version: `beta >= 1.0`, `libc6 (>= 2.36)`, `/bin/sh`,
/// `libc.so.6()(64bit)`.
public struct Dependency: Sendable, Hashable, CustomStringConvertible {
    /// The package name, virtual name, file path (RPM) or soname capability (RPM) required.
    public var name: String
    public var constraint: VersionConstraint?
    /// Debian's architecture qualifier (`any`, `native`, `amd64` from `foo:any`); nil when absent.
    /// The resolver matches by name only: the repository holds one architecture family.
    public var architectureQualifier: String?
    /// An rpm-internal feature (`rpmlib(PayloadIsZstd)`): rpm itself provides it, so the resolver ignores it.
    public var isRPMLibFeature: Bool

    public init(name: String, constraint: VersionConstraint? = nil, architectureQualifier: String? = nil,
                isRPMLibFeature: Bool? = nil) {
        self.name = name
        self.constraint = constraint
        self.architectureQualifier = architectureQualifier
        self.isRPMLibFeature = isRPMLibFeature ?? name.hasPrefix("rpmlib(")
    }

    /// Whether the dependency names a file (`/bin/sh`): RPM satisfies it by any package owning that path,
    /// or by the path existing in the target root.
    public var isFilePath: Bool { name.hasPrefix("/") }

    /// The shared library file an RPM soname dependency names: `libc.so.6` for `libc.so.6()(64bit)` and for
    /// `libc.so.6(GLIBC_2.34)(64bit)`; nil for other names.
    public var sharedLibraryFileName: String? {
        guard !isFilePath, let open = name.firstIndex(of: "(") else { return nil }
        let file = name[..<open]
        guard file.hasPrefix("lib") || file.hasPrefix("ld"), file.contains(".so") else { return nil }
        return String(file)
    }

    public var description: String {
        var text = name
        if let architectureQualifier { text += ":" + architectureQualifier }
        if let constraint {
            text += constraint.version.format == .deb ? " (\(constraint))" : " \(constraint)"
        }
        return text
    }
}
