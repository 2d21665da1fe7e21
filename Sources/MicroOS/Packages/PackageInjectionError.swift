import ArchiveKit
import PackageKit

/// Why packages cannot be injected. Every case names the package file (or the dependencies) at fault.
public enum PackageInjectionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A package or the repository cannot be read, or dependencies are unresolved (`PackageError.unresolved`
    /// lists each missing one and who needs it).
    case package(PackageError)
    /// A payload entry cannot be placed in the root: an unsafe path, or a path through a symlink out of it.
    case unsafeEntry(package: String, entry: String, reason: EditPlanError)
    /// A payload entry that is a device node, fifo or socket: not injected (see `isInjectable`).
    case specialFile(package: String, entry: String, kind: EntryKind)
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
        case .specialFile(let package, let entry, let kind):
            "\(package): payload entry \(entry) is a \(kind.spokenName): device nodes, fifos and sockets are not injected "
                + "into the µOS (its /dev is devtmpfs; a node elsewhere in the root would give raw access to a device)"
        case .conflict(let package, let path, let message):
            "\(package): \(path): \(message)"
        case .database(let path, let message):
            "\(path): \(message)"
        case .changedSincePlanned(let package, let message):
            "\(package): the package changed after the plan was made: \(message)"
        }
    }
}

extension EntryKind {
    /// Whether a package may bring an entry of this kind into the µOS: files, directories and symlinks. No
    /// package the µOS needs ships a device node (udev and devtmpfs make them at boot), so one in a payload
    /// is a mistake or an attack, refused by name rather than skipped behind the user's back.
    var isInjectable: Bool { self == .regular || self == .directory || self == .symlink }

    var spokenName: String {
        switch self {
        case .regular: "regular file"
        case .directory: "directory"
        case .symlink: "symlink"
        case .characterDevice: "character device"
        case .blockDevice: "block device"
        case .fifo: "fifo"
        case .socket: "socket"
        }
    }
}
