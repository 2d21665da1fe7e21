import Foundation
import Glibc

/// The installed system's root file system, mounted on a host directory, seen as the installed system sees
/// it: paths are absolute in the target (`/etc/hostname`), absolute link targets start at the target's
/// root (as they would under chroot), and nothing ever leads out of it.
///
/// The image is data, not trusted: every path is resolved one component at a time with `lstat`, links are
/// followed by hand, and a link whose `..` climbs above the root is refused (`ProvisionError.symlinkEscape`)
/// instead of being followed into the host.
struct TargetRoot {
    /// A path resolved in the target.
    struct Location: Equatable {
        /// Components below the root, no links among those that exist (except a final one not followed).
        var components: [String]
        /// The host path to use for system calls.
        var host: String

        /// The resolved path as the target sees it (`/usr/lib/os-release`).
        var path: String { "/" + components.joined(separator: "/") }
    }

    /// What `lstat` says about a file.
    struct FileInfo: Equatable {
        enum Kind: Equatable { case regular, directory, symlink, other }
        var kind: Kind
        /// Permission bits (`0o7777`).
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
    }

    static let maximumLinkHops = 40

    /// The host directory of the target's `/`, canonical, without a trailing slash (empty for the host's `/`).
    let root: String

    /// - Throws: `ProvisionError.io` when `path` is not a directory.
    init(_ path: String) throws(ProvisionError) {
        guard let canonical = SysfsFiles.canonical(path), SysfsFiles.isDirectory(canonical) else {
            throw .io(path: path, operation: "opening the target's root", reason: "not an existing directory")
        }
        root = canonical == "/" ? "" : canonical
    }

    func hostPath(_ components: [String]) -> String {
        components.isEmpty ? (root.isEmpty ? "/" : root) : root + "/" + components.joined(separator: "/")
    }

    /// Resolves `path` (absolute, in the target) component by component.
    /// - Parameter followFinal: follow a link in the last component too (reading, writing through it);
    ///   `false` to act on the link itself (creating or removing it).
    /// - Throws: `.outsideRoot` for a relative path or `..` above `/`, `.symlinkEscape` for a link that
    ///   leads above `/`, `.symlinkLoop`.
    func resolve(_ path: String, followFinal: Bool = true) throws(ProvisionError) -> Location {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else { throw .outsideRoot(path: path) }
        var pending: [String] = path.split(separator: "/").reversed().map(String.init)
        var resolved: [String] = []
        var hops = 0
        var lastLink: (path: String, target: String)?
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                guard !resolved.isEmpty else {
                    if let lastLink { throw .symlinkEscape(path: path, link: lastLink.path, target: lastLink.target) }
                    throw .outsideRoot(path: path)
                }
                resolved.removeLast()
                continue
            }
            let candidate = resolved + [component]
            let host = hostPath(candidate)
            guard let info = Self.lstatInfo(host), info.kind == .symlink, followFinal || !pending.isEmpty else {
                resolved = candidate
                continue
            }
            hops += 1
            guard hops <= Self.maximumLinkHops else { throw .symlinkLoop(path: path) }
            guard let target = SysfsFiles.linkTarget(host) else {
                throw .io(path: "/" + candidate.joined(separator: "/"), operation: "reading the link",
                          reason: Self.lastError())
            }
            lastLink = ("/" + candidate.joined(separator: "/"), target)
            if target.hasPrefix("/") { resolved = [] }
            pending.append(contentsOf: target.split(separator: "/").reversed().map(String.init))
        }
        return Location(components: resolved, host: hostPath(resolved))
    }

    /// `lstat` of a host path; `nil` when it does not exist.
    static func lstatInfo(_ host: String) -> FileInfo? {
        var status = stat()
        guard lstat(host, &status) == 0 else { return nil }
        let kind: FileInfo.Kind
        switch status.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        return FileInfo(kind: kind, mode: UInt32(status.st_mode) & 0o7777, uid: status.st_uid, gid: status.st_gid)
    }

    /// What the target's `path` is, following links inside the root; `nil` when it does not exist.
    func info(_ path: String) throws(ProvisionError) -> FileInfo? {
        Self.lstatInfo(try resolve(path).host)
    }

    func exists(_ path: String) throws(ProvisionError) -> Bool { try info(path) != nil }

    func isDirectory(_ path: String) throws(ProvisionError) -> Bool { try info(path)?.kind == .directory }

    /// The bytes of the regular file at `path`; `nil` when it does not exist.
    /// - Throws: `.malformed` when it is not a regular file or larger than `limit`.
    func read(_ path: String, limit: Int = 16 << 20) throws(ProvisionError) -> [UInt8]? {
        let location = try resolve(path)
        guard let info = Self.lstatInfo(location.host) else { return nil }
        guard info.kind == .regular else { throw .malformed(path: path, reason: "not a regular file") }
        return try Self.readFile(location.host, shownAs: path, limit: limit)
    }

    /// The text of the file at `path`; `nil` when it does not exist.
    func readText(_ path: String, limit: Int = 16 << 20) throws(ProvisionError) -> String? {
        try read(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    static func readFile(_ host: String, shownAs path: String, limit: Int) throws(ProvisionError) -> [UInt8] {
        let descriptor = open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, operation: "opening", reason: lastError()) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "reading", reason: lastError())
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0 ..< count])
            guard bytes.count <= limit else {
                throw .malformed(path: path, reason: "larger than \(limit) bytes")
            }
        }
        return bytes
    }

    /// Replaces (or creates) the file at host path `host` with `bytes`: a temporary file in the same
    /// directory, mode and owner set (and the old file's SELinux label), synced, then renamed over the old
    /// one. The old file stays intact on any failure.
    static func writeAtomically(_ host: String, shownAs path: String, bytes: [UInt8], mode: UInt32,
                                uid: UInt32, gid: UInt32) throws(ProvisionError) {
        let directory = (host as NSString).deletingLastPathComponent
        let name = (host as NSString).lastPathComponent
        var temporary = ""
        var descriptor: Int32 = -1
        for attempt in 0 ..< 100 {
            temporary = directory + "/.\(name).emts-\(getpid())-\(attempt)"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else {
            throw .io(path: path, operation: "creating a temporary file next to it", reason: lastError())
        }
        var failure: ProvisionError?
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                failure = .io(path: path, operation: "writing", reason: lastError())
                break
            }
            written += count
        }
        if failure == nil, fchown(descriptor, uid, gid) != 0 {
            failure = .io(path: path, operation: "setting the owner to \(uid):\(gid)", reason: lastError())
        }
        // After chown: chown clears set-id bits.
        if failure == nil, fchmod(descriptor, mode_t(mode)) != 0 {
            failure = .io(path: path, operation: "setting the mode", reason: lastError())
        }
        // A replaced file keeps its SELinux label.
        if failure == nil, let label = SELinuxLabel.read(host) { SELinuxLabel.set(label, on: descriptor) }
        if failure == nil, fsync(descriptor) != 0 {
            failure = .io(path: path, operation: "syncing", reason: lastError())
        }
        close(descriptor)
        if failure == nil, rename(temporary, host) != 0 {
            failure = .io(path: path, operation: "renaming the new file into place", reason: lastError())
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        syncDirectory(directory)
    }

    /// Syncs a directory after a rename or a new entry (best effort).
    static func syncDirectory(_ host: String) {
        let descriptor = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}
