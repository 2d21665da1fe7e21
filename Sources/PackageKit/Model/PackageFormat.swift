/// The two package formats: each brings its own version ordering and dependency semantics.
public enum PackageFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// RPM (`.rpm`): the µOS's own package system (EMT is RPM-based).
    case rpm
    /// Debian (`.deb`): the test bed's package system.
    case deb

    /// The file name extension packages of this format carry.
    public var fileExtension: String { "." + rawValue }
}
