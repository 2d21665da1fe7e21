import ArchiveKit

/// Every change to the µOS rootfs, computed before anything is written: entries to drop, entries to add, and
/// notes for the user. `emts-iso build --dry-run` prints it, the build manifest records it (as JSON), and the
/// rewriter applies it.
///
/// Paths are normalized (`RootPath`). Removals are sorted by path; additions are in hierarchy order (a directory
/// before anything inside it), the order the rewriter appends them in.
public struct EditPlan: Codable, Sendable, Equatable, CustomStringConvertible {
    /// An archive entry to drop.
    public struct Removal: Codable, Sendable, Equatable {
        public enum Reason: Codable, Sendable, Equatable {
            /// A `*.wants/` or `*.requires/` link enabling a unit being disabled.
            case enablesUnit(unit: String)
            /// An alias link (directly in `etc/systemd/system`) of a unit being disabled.
            case aliasOfUnit(unit: String)
            /// Replaced by the mask of this unit.
            case replacedByMask(unit: String)
            /// Replaced by an addition at the same path.
            case replacedByAddition
            /// Replaced by a file of an injected package (see `InjectedPackage.replaced`).
            case replacedByPackage(name: String)
        }

        public var path: String
        public var reason: Reason

        public init(path: String, reason: Reason) {
            self.path = path
            self.reason = reason
        }
    }

    /// An entry to add, described as the archive will carry it.
    public struct Addition: Codable, Sendable, Equatable {
        public enum Purpose: Codable, Sendable, Equatable {
            /// Asked for by the request at `path` (its spelling, before resolution through symlinks).
            case requested(path: String)
            /// A missing directory above another addition.
            case parentDirectory
            /// The mask (`-> /dev/null`) of a disabled unit.
            case mask(unit: String)
            /// An enablement link: `directive` is the `[Install]` line it comes from (`WantedBy=multi-user.target`).
            case enable(unit: String, directive: String)
            /// An `Alias=` link.
            case alias(unit: String)
        }

        public var path: String
        public var kind: EntryKind
        public var permissions: UInt32
        public var uid: Int64
        public var gid: Int64
        /// Seconds since the epoch.
        public var mtime: Int64
        public var symlinkTarget: String?
        /// For a regular file: where its bytes come from.
        public var source: EditRequest.FileSource?
        public var purpose: Purpose

        public init(path: String, kind: EntryKind, permissions: UInt32, uid: Int64 = 0, gid: Int64 = 0, mtime: Int64,
                    symlinkTarget: String? = nil, source: EditRequest.FileSource? = nil, purpose: Purpose) {
            self.path = path
            self.kind = kind
            self.permissions = permissions
            self.uid = uid
            self.gid = gid
            self.mtime = mtime
            self.symlinkTarget = symlinkTarget
            self.source = source
            self.purpose = purpose
        }

        /// Data size in bytes (0 for directories and symlinks).
        public var size: Int64 { source?.size ?? 0 }

        /// The archive header to write (the path as normalized; the rewriter adds a `./` prefix if the archive
        /// uses one).
        public var archiveEntry: ArchiveEntry {
            let time = ArchiveTime(seconds: mtime)
            switch kind {
            case .directory:
                return .directory(path, permissions: permissions, uid: uid, gid: gid, mtime: time)
            case .symlink:
                return .symlink(path, target: symlinkTarget ?? "", uid: uid, gid: gid, mtime: time)
            default:
                return .file(path, size: size, permissions: permissions, uid: uid, gid: gid, mtime: time)
            }
        }

        /// The same entry, whatever the reason for it.
        func sameEntry(as other: Addition) -> Bool {
            var other = other
            other.purpose = purpose
            return self == other
        }
    }

    public let removals: [Removal]
    public let additions: [Addition]
    /// Sentences for the user: what was already so, what is missing, what was replaced.
    public let notes: [String]
    /// Packages to inject: their payloads are appended after the additions (which hold the directories they
    /// need and, for Debian, their dpkg records).
    public let packages: PackageInjection
    private let removedPaths: Set<String>

    /// The plan that changes nothing.
    public static let empty = EditPlan(removals: [], additions: [], notes: [])

    /// Sorts removals by path and additions into hierarchy order.
    public init(removals: [Removal], additions: [Addition], notes: [String], packages: PackageInjection = .none) {
        self.removals = removals.sorted { RootPath.precedes($0.path, $1.path) }
        self.additions = additions.sorted { RootPath.precedes($0.path, $1.path) }
        self.notes = notes
        self.packages = packages
        removedPaths = Set(removals.map(\.path))
    }

    /// Changes nothing (notes, and packages skipped as already present, do not count).
    public var isEmpty: Bool { removals.isEmpty && additions.isEmpty && packages.packages.isEmpty }

    /// Whether the rewriter must drop entries at this normalized path (every entry at it).
    public func removes(_ path: String) -> Bool { removedPaths.contains(path) }

    private enum CodingKeys: String, CodingKey { case removals, additions, notes, packages }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(removals: try container.decode([Removal].self, forKey: .removals),
                  additions: try container.decode([Addition].self, forKey: .additions),
                  notes: try container.decode([String].self, forKey: .notes),
                  packages: try container.decodeIfPresent(PackageInjection.self, forKey: .packages) ?? .none)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(removals, forKey: .removals)
        try container.encode(additions, forKey: .additions)
        try container.encode(notes, forKey: .notes)
        if !packages.isEmpty { try container.encode(packages, forKey: .packages) }
    }

    // MARK: Rendering

    /// One line per change, for `--dry-run`: removals, then additions, then notes.
    ///
    ///     remove etc/systemd/system/multi-user.target.wants/caddy.service (enables caddy.service)
    ///     mask   etc/systemd/system/caddy.service -> /dev/null
    ///     add    usr/bin/install-os (0755 root:root, 1234567 bytes)
    public var description: String {
        var lines = removals.map { "remove \($0.path) (\($0.reason.phrase))" }
        lines += additions.map(\.line)
        lines += notes.map { "note   \($0)" }
        lines += packages.lines
        if lines.isEmpty { lines = ["no changes"] }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension EditPlan.Removal.Reason {
    var phrase: String {
        switch self {
        case .enablesUnit(let unit): "enables \(unit)"
        case .aliasOfUnit(let unit): "alias of \(unit)"
        case .replacedByMask(let unit): "replaced by the mask of \(unit)"
        case .replacedByAddition: "replaced by an addition"
        case .replacedByPackage(let name): "replaced by a file of package \(name)"
        }
    }
}

extension EditPlan.Addition {
    var line: String {
        let owner = "\(modeText) \(uid == 0 ? "root" : String(uid)):\(gid == 0 ? "root" : String(gid))"
        let link = "\(path) -> \(symlinkTarget ?? "")"
        switch purpose {
        case .mask:
            return "mask   \(link)"
        case .enable(let unit, let directive):
            return "enable \(link) (\(unit) \(directive))"
        case .alias(let unit):
            return "alias  \(link) (Alias= of \(unit))"
        case .parentDirectory:
            return "mkdir  \(path) (\(owner))"
        case .requested(let asked):
            let via = asked == path ? "" : "requested as /\(asked)"
            switch kind {
            case .directory: return "mkdir  \(path) (\(owner)\(via.isEmpty ? "" : "; " + via))"
            case .symlink: return "link   \(link)\(via.isEmpty ? "" : " (\(via))")"
            default: return "add    \(path) (\(owner), \(size) bytes\(via.isEmpty ? "" : "; " + via))"
            }
        }
    }

    private var modeText: String {
        let octal = String(permissions & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }
}
