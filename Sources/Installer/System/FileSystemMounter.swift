/// Mounts file systems for install-os: the medium's ISO 9660 tree (read-only) and its FAT config partition.
///
/// Injectable so that tests hand out directories instead of mounting anything (see `SystemMounter` for
/// the real one).
public protocol FileSystemMounter: Sendable {
    /// Mounts `device` (a device path) holding a file system of `type` ("iso9660", "vfat").
    /// - Throws: `MountError` naming the device.
    func mount(_ device: String, type: String, access: MountAccess) throws(MountError) -> MountedFileSystem

    /// Unmounts what `mount` returned. Does nothing for a file system this mounter did not mount.
    /// - Throws: `MountError` naming the mount point.
    func unmount(_ mounted: MountedFileSystem) throws(MountError)
}

/// Read-only or read-write.
public enum MountAccess: String, Sendable, Codable {
    case readOnly = "read-only"
    case readWrite = "read-write"
}

/// A mounted file system: where its root is visible.
public struct MountedFileSystem: Sendable, Equatable {
    /// The device that was mounted.
    public var device: String
    /// The directory showing the file system's root.
    public var root: String
    public var access: MountAccess
    /// False when the file system was already mounted (by someone else) and is only borrowed.
    public var owned: Bool

    public init(device: String, root: String, access: MountAccess, owned: Bool) {
        self.device = device
        self.root = root
        self.access = access
        self.owned = owned
    }

    /// The path of `relative` (with or without a leading `/`) inside the file system.
    public func path(_ relative: String) -> String {
        relative.hasPrefix("/") ? root + relative : root + "/" + relative
    }
}

/// A mount or unmount that failed.
public struct MountError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The device or mount point.
    public var path: String
    public var operation: String
    public var reason: String

    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "\(path): \(operation): \(reason)" }
}
