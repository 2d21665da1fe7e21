import Foundation
import Glibc

/// One provisioning run: the target's file operations, each recorded as a `ProvisionChange` when it
/// changed something (a file already as wanted is left alone and not reported: running twice changes
/// nothing the second time).
final class ProvisionSession {
    /// What to do with the mode and owner of a file that exists.
    enum Ownership {
        /// Keep them as found; `mode`/`uid`/`gid` only for a new file.
        case keepExisting
        /// Always `mode`/`uid`/`gid`.
        case enforce
    }

    let target: TargetRoot
    let now: Date
    private(set) var changes: [ProvisionChange] = []
    private(set) var warnings: [String] = []
    private let onChange: (ProvisionChange) -> Void

    init(target: TargetRoot, now: Date, onChange: @escaping (ProvisionChange) -> Void) {
        self.target = target
        self.now = now
        self.onChange = onChange
    }

    func record(_ path: String, _ action: ProvisionChange.Action, _ summary: String) {
        let change = ProvisionChange(path: path, action: action, summary: summary)
        changes.append(change)
        onChange(change)
    }

    func warn(_ text: String) { warnings.append(text) }

    // MARK: Files

    /// Makes the file at `path` hold `text`. Parent directories are created (0755 root:root) as needed.
    func write(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
               ownership: Ownership = .keepExisting, summary: String) throws(ProvisionError) {
        try write(path, bytes: Array(text.utf8), mode: mode, uid: uid, gid: gid, ownership: ownership,
                  summary: summary)
    }

    func write(_ path: String, bytes: [UInt8], mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
               ownership: Ownership = .keepExisting, summary: String) throws(ProvisionError) {
        let location = try target.resolve(path)
        guard !location.components.isEmpty else { throw .malformed(path: path, reason: "is the root directory") }
        let existing = TargetRoot.lstatInfo(location.host)
        switch existing?.kind {
        case nil:
            try ensureDirectory(parent(of: location.path))
            try TargetRoot.writeAtomically(location.host, shownAs: path, bytes: bytes, mode: mode, uid: uid, gid: gid)
            record(path, .created, summary)
        case .regular:
            let old = try TargetRoot.readFile(location.host, shownAs: path, limit: 64 << 20)
            let info = existing!
            let wanted = ownership == .enforce ? (mode, uid, gid) : (info.mode, info.uid, info.gid)
            if old == bytes {
                if (info.mode, info.uid, info.gid) != wanted {
                    try setOwnership(location.host, shownAs: path, mode: wanted.0, uid: wanted.1, gid: wanted.2)
                    record(path, .permissions, summary)
                }
                return
            }
            try TargetRoot.writeAtomically(location.host, shownAs: path, bytes: bytes, mode: wanted.0,
                                           uid: wanted.1, gid: wanted.2)
            if !old.isEmpty, old.last == UInt8(ascii: "\n"), bytes.starts(with: old) {
                let added = bytes[old.count...].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                record(path, .appended(lines: bytes.last == UInt8(ascii: "\n") ? added.count - 1 : added.count), summary)
            } else {
                record(path, .replaced, summary)
            }
        case .directory:
            throw .malformed(path: path, reason: "is a directory, expected a file")
        case .symlink, .other:
            throw .malformed(path: path, reason: "is not a regular file")
        }
    }

    /// Removes the file or link at `path` (not followed) when it exists.
    func remove(_ path: String, summary: String) throws(ProvisionError) {
        let location = try target.resolve(path, followFinal: false)
        guard let info = TargetRoot.lstatInfo(location.host) else { return }
        guard info.kind != .directory else { throw .malformed(path: path, reason: "is a directory, expected a file") }
        guard unlink(location.host) == 0 else {
            throw .io(path: path, operation: "removing", reason: TargetRoot.lastError())
        }
        record(path, .removed, summary)
    }

    // MARK: Directories

    /// Makes `path` an existing directory, creating what is missing with `mode` and owner `uid:gid`.
    /// - Parameter enforce: also set `mode` and the owner of the last component when it exists.
    @discardableResult
    func ensureDirectory(_ path: String, mode: UInt32 = 0o755, uid: UInt32 = 0, gid: UInt32 = 0,
                         enforce: Bool = false, summary: String? = nil) throws(ProvisionError) -> TargetRoot.Location {
        let location = try target.resolve(path)
        // The longest prefix that exists; everything after it is created.
        var existingCount = location.components.count
        while existingCount > 0, TargetRoot.lstatInfo(target.hostPath(Array(location.components.prefix(existingCount)))) == nil {
            existingCount -= 1
        }
        let existingHost = target.hostPath(Array(location.components.prefix(existingCount)))
        guard TargetRoot.lstatInfo(existingHost)?.kind == .directory else {
            throw .malformed(path: "/" + location.components.prefix(existingCount).joined(separator: "/"),
                             reason: "is not a directory")
        }
        if existingCount == location.components.count {
            if enforce, let info = TargetRoot.lstatInfo(location.host), (info.mode, info.uid, info.gid) != (mode, uid, gid) {
                try setOwnership(location.host, shownAs: path, mode: mode, uid: uid, gid: gid)
                record(location.path, .permissions, summary ?? "directory")
            }
            return location
        }
        for count in existingCount + 1 ... location.components.count {
            let components = Array(location.components.prefix(count))
            let host = target.hostPath(components)
            let shown = "/" + components.joined(separator: "/")
            let last = count == location.components.count
            // Intermediate directories the caller did not ask for are root's, 0755.
            let (dirMode, dirUID, dirGID) = last ? (mode, uid, gid) : (0o755, 0, 0)
            guard mkdir(host, 0o700) == 0 else {
                throw .io(path: shown, operation: "creating the directory", reason: TargetRoot.lastError())
            }
            try setOwnership(host, shownAs: shown, mode: dirMode, uid: dirUID, gid: dirGID)
            TargetRoot.syncDirectory((host as NSString).deletingLastPathComponent)
            record(shown, .created, last ? (summary ?? "directory") : "directory")
        }
        return location
    }

    // MARK: Links

    /// Makes `path` a symbolic link to `destination` (replacing another link or a file there).
    func link(_ path: String, to destination: String, summary: String) throws(ProvisionError) {
        let location = try target.resolve(path, followFinal: false)
        try ensureDirectory(parent(of: location.path))
        let existing = TargetRoot.lstatInfo(location.host)
        if existing?.kind == .symlink, SysfsFiles.linkTarget(location.host) == destination { return }
        if existing?.kind == .directory { throw .malformed(path: path, reason: "is a directory, expected a link") }
        let temporary = location.host + ".emts-\(getpid())"
        unlink(temporary)
        guard symlink(destination, temporary) == 0 else {
            throw .io(path: path, operation: "creating the link", reason: TargetRoot.lastError())
        }
        guard rename(temporary, location.host) == 0 else {
            let reason = TargetRoot.lastError()
            unlink(temporary)
            throw .io(path: path, operation: "renaming the new link into place", reason: reason)
        }
        TargetRoot.syncDirectory((location.host as NSString).deletingLastPathComponent)
        record(path, existing == nil ? .created : .replaced, summary)
    }

    // MARK: Helpers

    func setOwnership(_ host: String, shownAs path: String, mode: UInt32, uid: UInt32, gid: UInt32) throws(ProvisionError) {
        guard lchown(host, uid, gid) == 0 else {
            throw .io(path: path, operation: "setting the owner to \(uid):\(gid)", reason: TargetRoot.lastError())
        }
        guard chmod(host, mode_t(mode)) == 0 else {
            throw .io(path: path, operation: "setting the mode", reason: TargetRoot.lastError())
        }
    }

    func parent(of path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "/" : parent
    }

    /// Whole days since 1970-01-01 (shadow's `lastchg`).
    var daysSinceEpoch: Int { Int((now.timeIntervalSince1970 / 86_400).rounded(.down)) }
}

/// `0644`.
func octal(_ mode: UInt32) -> String {
    let digits = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
