/// One change the provisioner made to the target, for the install log. Descriptions never carry secrets
/// (password hashes, SSH keys, proxy credentials, file contents, commands).
public struct ProvisionChange: Sendable, Equatable, CustomStringConvertible {
    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// A new file, directory or link.
        case created
        /// An existing file rewritten (or a link pointed elsewhere).
        case replaced
        /// An existing file kept as it was, with `lines` lines added at its end.
        case appended(lines: Int)
        /// A file that is no longer wanted, removed.
        case removed
        /// Only the mode or the owner changed.
        case permissions
        /// SELinux labels set on `paths` new paths (recorded once, for the root).
        case labeled(paths: Int)

        public var description: String {
            switch self {
            case .created: "created"
            case .replaced: "replaced"
            case .appended(let lines): "appended \(lines) line\(lines == 1 ? "" : "s")"
            case .removed: "removed"
            case .permissions: "mode/owner set"
            case .labeled(let paths): "\(paths) new path\(paths == 1 ? "" : "s") labeled"
            }
        }
    }

    /// The path in the target (`/etc/hostname`).
    public var path: String
    public var action: Action
    /// What it is for, in words (`hostname edge-01`).
    public var summary: String

    public init(path: String, action: Action, summary: String) {
        self.path = path
        self.action = action
        self.summary = summary
    }

    /// `/etc/hostname: replaced (hostname edge-01)`.
    public var description: String { "\(path): \(action) (\(summary))" }
}

/// What one provisioning run did.
public struct ProvisionReport: Sendable, Equatable {
    /// Every change, in the order made. Empty when the target already was as the profile says.
    public var changes: [ProvisionChange]
    /// What could not be done and was skipped (a unit the image does not have, no `sudo` group).
    public var warnings: [String]

    public init(changes: [ProvisionChange] = [], warnings: [String] = []) {
        self.changes = changes
        self.warnings = warnings
    }

    /// One line per change, then one per warning (`warning: ...`): for the install log.
    public var logLines: [String] {
        changes.map(\.description) + warnings.map { "warning: " + $0 }
    }
}

/// Why the target could not be configured. Messages name the path in the target and never quote secrets.
public enum ProvisionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A profile value that cannot be written (checked before anything is written).
    case invalidProfile(field: String, reason: String)
    /// `path` leads through the link `link`, whose target `target` points out of the root.
    case symlinkEscape(path: String, link: String, target: String)
    /// `path` itself is outside the root (`..` above `/`) or not absolute.
    case outsideRoot(path: String)
    /// Too many links while resolving `path`.
    case symlinkLoop(path: String)
    /// A file of the target that cannot be read as what it should be (`/etc/passwd` line 3 has 5 fields).
    case malformed(path: String, reason: String)
    /// A system call on `path` failed.
    case io(path: String, operation: String, reason: String)
    /// No free uid or gid between the minimum and the maximum of `/etc/login.defs`.
    case noFreeID(kind: String, minimum: Int, maximum: Int)
    /// A `write_files` owner that the target's passwd or group does not know.
    case unknownOwner(path: String, owner: String)

    public var description: String {
        switch self {
        case .invalidProfile(let field, let reason):
            "profile: \(field): \(reason)"
        case .symlinkEscape(let path, let link, let target):
            "\(path): refusing to follow \(link) -> \(target), it points out of the target's root"
        case .outsideRoot(let path):
            "\(path): not an absolute path inside the target's root"
        case .symlinkLoop(let path):
            "\(path): too many levels of symbolic links"
        case .malformed(let path, let reason):
            "\(path): \(reason)"
        case .io(let path, let operation, let reason):
            "\(path): \(operation): \(reason)"
        case .noFreeID(let kind, let minimum, let maximum):
            "no free \(kind) between \(minimum) and \(maximum)"
        case .unknownOwner(let path, let owner):
            "\(path): owner \(owner) is not in the target's passwd/group"
        }
    }
}
