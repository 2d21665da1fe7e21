import Glibc

/// A package file of either format: what a repository holds and the resolver picks.
public enum PackageArchive: Sendable, Hashable, CustomStringConvertible {
    case rpm(RPMPackage)
    case deb(DebianPackage)

    /// Opens the package at `path`, recognizing the format by its first bytes (not its name).
    /// - Throws: `PackageError` naming `path`; `.notAPackage` when it is neither an RPM nor a Debian package.
    public static func open(path: String) throws(PackageError) -> PackageArchive {
        let file = try PackageFileHandle(path: path)
        let head = try file.bytes(at: 0, count: Int(min(file.size, 8)), what: "the package magic")
        if head.starts(with: RPMLead.magic) { return .rpm(try RPMPackage(path: path)) }
        if head.starts(with: DebianContainer.magic) { return .deb(try DebianPackage(path: path)) }
        throw .notAPackage(path: path, reason: "neither RPM (ed ab ee db) nor ar (!<arch>) magic: starts with \(hex(head))")
    }

    /// The package file.
    public var path: String {
        switch self {
        case .rpm(let package): package.path
        case .deb(let package): package.path
        }
    }

    public var metadata: PackageMetadata {
        switch self {
        case .rpm(let package): package.metadata
        case .deb(let package): package.metadata
        }
    }

    public var format: PackageFormat { metadata.format }

    /// Streams the package's files (RPM payload, Debian data archive).
    public func payload() throws(PackageError) -> PackagePayloadReader {
        switch self {
        case .rpm(let package): try package.payload()
        case .deb(let package): try package.payload()
        }
    }

    public var description: String { metadata.description }
}
