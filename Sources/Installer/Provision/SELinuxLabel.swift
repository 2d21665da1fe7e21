import CSELinux
import Glibc

/// The SELinux label (`security.selinux` extended attribute) of the target's files. A replaced file keeps
/// its label (a new inode would have none, and an unlabeled `/etc/shadow` locks logins out under an
/// enforcing policy); a new file gets the label the target's policy gives its path, as `restorecon` would.
enum SELinuxLabel {
    static let attribute = "security.selinux"

    /// The label of the file at host path `path` (not following a link); `nil` when it has none.
    static func read(_ path: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { lgetxattr(path, attribute, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return Array(buffer[0 ..< count])
    }

    /// Sets the label of an open file. Best effort: returns whether it worked.
    @discardableResult
    static func set(_ label: [UInt8], on descriptor: Int32) -> Bool {
        label.withUnsafeBytes { fsetxattr(descriptor, attribute, $0.baseAddress, $0.count, 0) } == 0
    }

    /// Sets the label of the file, directory or link at host path `path` (the link itself).
    /// - Returns: `nil`, or the reason it failed.
    static func set(_ label: [UInt8], path: String) -> String? {
        let result = label.withUnsafeBytes { lsetxattr(path, attribute, $0.baseAddress, $0.count, 0) }
        return result == 0 ? nil : String(cString: strerror(errno))
    }
}

/// The installed system's SELinux policy as far as labels go: its mode and file contexts, read from the
/// target's `/etc/selinux/config` and `/etc/selinux/<SELINUXTYPE>/contexts/files/file_contexts` (with the
/// `.homedirs` and `.local` files beside it) through libselinux, not the µOS's policy (it has none).
final class SELinuxPolicy {
    /// `SELINUX=` of the target: `enforcing` or `permissive` (a `disabled` target has no policy here).
    let mode: String
    /// `SELINUXTYPE=` (`targeted`, `default`, ...).
    let type: String
    /// The file contexts file, as a target path.
    let fileContexts: String
    private let handle: OpaquePointer

    enum Loading {
        /// The target does not run SELinux (no `/etc/selinux/config`, or `SELINUX=disabled`).
        case notUsed
        case loaded(SELinuxPolicy)
        /// It does, but its file contexts cannot be read: the reason.
        case unreadable(mode: String, reason: String)
    }

    /// The policy of the target whose `/etc/selinux/config` reads `config`, its root at host path `root`.
    static func load(config: String?, root: String) -> Loading {
        guard let config else { return .notUsed }
        let values = KeyValueLines(text: config)
        guard let mode = values.value(of: "SELINUX")?.lowercased(), mode == "enforcing" || mode == "permissive" else {
            return .notUsed
        }
        let type = values.value(of: "SELINUXTYPE") ?? "targeted"
        guard !type.isEmpty, !type.contains("/"), type != "..", type != "." else {
            return .unreadable(mode: mode, reason: "SELINUXTYPE=\(type) is not a policy name")
        }
        let fileContexts = "/etc/selinux/\(type)/contexts/files/file_contexts"
        let host = root + fileContexts
        guard access(host, R_OK) == 0 || access(host + ".bin", R_OK) == 0 else {
            return .unreadable(mode: mode, reason: "\(fileContexts) is missing")
        }
        let opened: OpaquePointer? = host.withCString { pathPointer in
            var options = [selinux_opt(type: SELABEL_OPT_PATH, value: pathPointer)]
            return selabel_open(UInt32(SELABEL_CTX_FILE), &options, UInt32(options.count))
        }
        guard let opened else {
            return .unreadable(mode: mode, reason: "libselinux cannot read \(fileContexts): \(String(cString: strerror(errno)))")
        }
        return .loaded(SELinuxPolicy(mode: mode, type: type, fileContexts: fileContexts, handle: opened))
    }

    private init(mode: String, type: String, fileContexts: String, handle: OpaquePointer) {
        self.mode = mode
        self.type = type
        self.fileContexts = fileContexts
        self.handle = handle
    }

    deinit { selabel_close(handle) }

    /// The label the policy gives target path `path` of file type `fileType` (`S_IFREG`, `S_IFDIR`, ...),
    /// with its terminating NUL as the kernel stores it; `nil` when no rule matches (or `<<none>>`).
    func label(for path: String, fileType: mode_t) -> [UInt8]? {
        var context: UnsafeMutablePointer<CChar>?
        guard selabel_lookup_raw(handle, &context, path, Int32(bitPattern: fileType)) == 0, let context else { return nil }
        defer { freecon(context) }
        let text = String(cString: context)
        guard text != "<<none>>" else { return nil }
        return Array(text.utf8) + [0]
    }
}
