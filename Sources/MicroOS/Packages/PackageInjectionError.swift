import PackageKit

/// Why packages cannot be injected. Every case names the package file (or the dependencies) at fault.
public enum PackageInjectionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A package or the repository cannot be read, or dependencies are unresolved (`PackageError.unresolved`
    /// lists each missing one and who needs it).
    case package(PackageError)
    /// A payload entry cannot be placed in the root: an unsafe path, or a path through a symlink out of it.
    case unsafeEntry(package: String, entry: String, reason: EditPlanError)
    /// A payload entry collides with what is, or will be, at `path`.
    case conflict(package: String, path: String, message: String)
    /// The root's package database cannot be used (dpkg's status file missing from the scan, a malformed record).
    case database(path: String, message: String)
    /// The package file no longer matches what the plan read from it.
    case changedSincePlanned(package: String, message: String)

    public var description: String {
        switch self {
        case .package(let error):
            "\(error)"
        case .unsafeEntry(let package, let entry, let reason):
            "\(package): payload entry \(entry): \(reason)"
        case .conflict(let package, let path, let message):
            "\(package): \(path): \(message)"
        case .database(let path, let message):
            "\(path): \(message)"
        case .changedSincePlanned(let package, let message):
            "\(package): the package changed after the plan was made: \(message)"
        }
    }
}
