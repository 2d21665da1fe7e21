import Foundation

/// Turns the ways an operator names a disk into its kernel name: `/dev/sda`, `/dev/disk/by-id/...`,
/// `/dev/disk/by-path/...` (followed through their symbolic links), or a bare `sda`.
enum DeviceName {
    /// The kernel name `spec` refers to.
    /// - Throws: `TargetError.unknownDevice` when a `/dev/` path does not exist or leads out of the device
    ///   directory.
    static func resolve(_ spec: String, paths: HostPaths) throws(TargetError) -> String {
        guard spec.hasPrefix("/") else { return spec }
        guard spec.hasPrefix("/dev/") else {
            throw .unknownDevice(target: spec, detail: "not a path under /dev", available: [])
        }
        var path = paths.dev + String(spec.dropFirst(4))
        for _ in 0 ..< 16 {
            guard let target = SysfsFiles.linkTarget(path) else { break }
            path = SysfsFiles.resolve(linkTarget: target, relativeTo: path)
        }
        guard SysfsFiles.linkTarget(path) == nil else {
            throw .unknownDevice(target: spec, detail: "too many symbolic links", available: [])
        }
        guard let name = paths.kernelName(ofDevicePath: path) else {
            let exists = SysfsFiles.exists(path)
            throw .unknownDevice(target: spec,
                                 detail: exists ? "leads to \(path), not a device node directly in \(paths.dev)"
                                     : "no such device or link", available: [])
        }
        return name
    }

    /// The disk holding partition `name`, from `/sys/class/block/<name>/..`; `nil` when `name` is not a
    /// partition.
    static func parentDisk(ofPartition name: String, paths: HostPaths) -> String? {
        let entry = paths.classBlockDirectory + "/" + name
        guard SysfsFiles.exists(entry + "/partition"), let canonical = SysfsFiles.canonical(entry) else { return nil }
        let parent = (canonical as NSString).deletingLastPathComponent
        return (parent as NSString).lastPathComponent
    }
}
