import Foundation
import Glibc

/// Mounts with mount(2) on private mount points under `HostPaths.runtime` (`/run/install-os/`), always with
/// `nosuid,nodev,noexec`; a device already mounted somewhere is borrowed instead of mounted twice.
public struct SystemMounter: FileSystemMounter {
    public let paths: HostPaths

    public init(paths: HostPaths = HostPaths()) {
        self.paths = paths
    }

    public func mount(_ device: String, type: String, access: MountAccess) throws(MountError) -> MountedFileSystem {
        if let existing = existingMount(of: device, access: access) { return existing }
        let name = (device as NSString).lastPathComponent
        let target = paths.runtime + "/mnt-" + name
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        } catch {
            throw MountError(path: target, operation: "creating the mount point", reason: error.localizedDescription)
        }
        var flags = UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)
        if access == .readOnly { flags |= UInt(MS_RDONLY) }
        var firstError: Int32?
        for options in Self.optionSets(for: type) {
            let result = options.withOptionalCString { Glibc.mount(device, target, type, flags, $0) }
            if result == 0 { return MountedFileSystem(device: device, root: target, access: access, owned: true) }
            let code = errno
            if firstError == nil { firstError = code }
            // Only a refused option set is worth another try; a missing device or a busy one is not.
            guard code == EINVAL else { break }
        }
        rmdir(target)
        throw MountError(path: device, operation: "mounting \(type) \(access.rawValue) on \(target)",
                         reason: String(cString: strerror(firstError ?? EIO)))
    }

    /// The mount options to try, in order. FAT: long names in UTF-8 and `flush` (the log is on the stick as soon
    /// as it is closed). vfat always loads an I/O character set for case folding, by default the kernel's
    /// (`ascii` on Debian), whose module a small µOS may lack ("IO charset ascii not found", EINVAL): then
    /// iso8859-1 and utf8 are tried, which the µOS's module set carries.
    static func optionSets(for type: String) -> [String?] {
        guard type == "vfat" else { return [nil] }
        return ["utf8,flush", "iocharset=iso8859-1,utf8,flush", "iocharset=utf8,flush"]
    }

    public func unmount(_ mounted: MountedFileSystem) throws(MountError) {
        guard mounted.owned else { return }
        guard umount2(mounted.root, 0) == 0 else {
            throw MountError(path: mounted.root, operation: "unmounting", reason: String(cString: strerror(errno)))
        }
        rmdir(mounted.root)
    }

    /// A mount of `device` that already exists, usable for `access`.
    private func existingMount(of device: String, access: MountAccess) -> MountedFileSystem? {
        let table = MountTable.read(paths)
        let resolved = SysfsFiles.canonical(device) ?? device
        for entry in table.entries where entry.source == device || entry.source == resolved {
            if access == .readOnly || !isReadOnlyMount(entry.mountPoint) {
                return MountedFileSystem(device: device, root: entry.mountPoint, access: access, owned: false)
            }
        }
        return nil
    }

    private func isReadOnlyMount(_ mountPoint: String) -> Bool {
        var info = statvfs()
        guard statvfs(mountPoint, &info) == 0 else { return true }
        return info.f_flag & UInt(ST_RDONLY) != 0
    }
}

extension Optional where Wrapped == String {
    fileprivate func withOptionalCString<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
        switch self {
        case .some(let text): text.withCString { body($0) }
        case .none: body(nil)
        }
    }
}
