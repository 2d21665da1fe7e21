import ArchiveKit

/// What a scan of the nested root archive learned: every path with its kind, mode, owner and link target, plus
/// the `[Install]` sections of the unit files the scan offered.
///
/// Built one entry at a time as the scan streams the archive. Memory grows with the number of entries, not with
/// their data: of file contents it keeps only the parsed `[Install]` section of small unit files.
///
/// The scan protocol, per entry: `add(entry)`; then, if `wantsContents(of: entry.path)`, read the entry's data and
/// pass it to `recordContents(_:of:)`.
public struct RootfsIndex: Sendable {
    /// One path of the archive. A later entry for the same path replaces an earlier one, as extraction would.
    public struct Node: Sendable, Hashable {
        public var kind: EntryKind
        public var permissions: UInt32
        public var uid: Int64
        public var gid: Int64
        public var size: Int64
        public var symlinkTarget: String?
        /// For a hard link: the normalized path it links to.
        public var hardlinkTarget: String?
        /// No entry of its own: a directory that exists because entries below it do.
        public var isImplicit: Bool

        public init(kind: EntryKind, permissions: UInt32, uid: Int64 = 0, gid: Int64 = 0, size: Int64 = 0,
                    symlinkTarget: String? = nil, hardlinkTarget: String? = nil, isImplicit: Bool = false) {
            self.kind = kind
            self.permissions = permissions
            self.uid = uid
            self.gid = gid
            self.size = size
            self.symlinkTarget = symlinkTarget
            self.hardlinkTarget = hardlinkTarget
            self.isImplicit = isImplicit
        }
    }

    /// A symlink in a unit directory: an enablement (`*.wants/`, `*.requires/`) or, directly in the directory,
    /// an alias or mask.
    public struct UnitLink: Sendable, Hashable {
        public enum Relation: Sendable, Hashable {
            /// In `<target>.wants/`.
            case wants(String)
            /// In `<target>.requires/`.
            case requires(String)
            /// Directly in the unit directory.
            case alias
        }

        public var path: String
        /// The unit directory it lives in (`etc/systemd/system`, ...).
        public var unitDirectory: String
        public var relation: Relation
        /// The link's own name: the unit it enables or the alias.
        public var name: String
        public var target: String
    }

    /// Where unit files live, in systemd's order of precedence (`lib` is usrmerged into `usr/lib` on the µOS).
    public static let unitDirectories = ["etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"]

    /// Unit files larger than this are not asked for by `wantsContents(of:)`.
    public static let defaultContentLimit = 64 * 1024

    public let contentLimit: Int
    /// Entries added so far (including repeated paths).
    public private(set) var entryCount = 0

    private var nodes: [String: Node] = [:]
    private var unitLinkPaths: Set<String> = []
    private var hardlinkTargets: Set<String> = []
    private var installSections: [String: Result<UnitInstallSection?, EditPlanError>] = [:]
    private var keptContents: [String: [UInt8]] = [:]

    /// Files whose whole contents the scan keeps, by path prefix, with a size limit each: the records emts-iso
    /// writes into the µOS (`/etc/emts/`, `/usr/share/emts/`) and dpkg's database, which inspection and package
    /// injection read, and glibc's `libc.so.6` (its version definitions say which install-os can run). Larger
    /// files are indexed without contents.
    public static let keptFiles: [(prefix: String, limit: Int64)] = [
        ("etc/emts/", 1 << 20), ("usr/share/emts/", 1 << 20), ("var/lib/dpkg/status", 64 << 20),
    ] + glibcPaths.map { ($0, 16 << 20) }

    /// Where a root keeps glibc's `libc.so.6`: RPM distributions (Azure Linux, Fedora) and Debian, merged /usr
    /// or not.
    public static let glibcPaths = [
        "usr/lib64/libc.so.6", "lib64/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6",
    ]

    public init(contentLimit: Int = RootfsIndex.defaultContentLimit) {
        self.contentLimit = contentLimit
    }

    /// Indexes `entries` in order (convenience for tests and small archives; contents are not recorded).
    public init(_ entries: some Sequence<ArchiveEntry>, contentLimit: Int = RootfsIndex.defaultContentLimit) throws {
        self.init(contentLimit: contentLimit)
        for entry in entries { try add(entry) }
    }

    /// Records one archive entry.
    ///
    /// - Throws: `EditPlanError.unsafePath` / `.unsafeHardlink` for an unsafe path or hard link target;
    ///   `.escapesRoot` / `.symlinkLoop` when the entry would be extracted through a symlink (indexed earlier)
    ///   that leaves the root. Each names the entry.
    public mutating func add(_ entry: ArchiveEntry) throws {
        let path = try RootPath.normalize(entry.path)
        var hardlink: String?
        if let target = entry.hardlinkTarget {
            do {
                hardlink = try RootPath.normalize(target)
            } catch EditPlanError.unsafePath(_, let problem) {
                throw EditPlanError.unsafeHardlink(entry: entry.path, target: target, problem: problem)
            }
        }
        if !path.isEmpty { try checkAncestors(of: path, entry: entry.path) }
        // A hard link through an escaping symlink would link a file from outside the root.
        if let hardlink, hardlink.contains("/") { try refuseEscape(RootPath.parent(of: hardlink), entry: entry.path) }
        entryCount += 1
        let node = Node(kind: entry.kind, permissions: entry.permissions & 0o7777, uid: entry.uid, gid: entry.gid,
                        size: entry.size, symlinkTarget: entry.kind == .symlink ? entry.symlinkTarget : nil,
                        hardlinkTarget: hardlink)
        nodes[path] = node
        installSections[path] = nil
        keptContents[path] = nil
        if node.kind == .symlink, Self.unitLinkRelation(of: path) != nil {
            unitLinkPaths.insert(path)
        } else {
            unitLinkPaths.remove(path)
        }
        if let hardlink { hardlinkTargets.insert(hardlink) }
    }

    /// Marks missing ancestors as implicit directories, and refuses an entry that extraction would place
    /// outside the root through a symlink indexed before it.
    private mutating func checkAncestors(of path: String, entry: String) throws {
        var throughSymlink = false
        for slash in path.indices where path[slash] == "/" {
            let ancestor = String(path[..<slash])
            if let node = nodes[ancestor] {
                if node.kind == .symlink { throughSymlink = true }
            } else if !throughSymlink {
                nodes[ancestor] = Node(kind: .directory, permissions: 0o755, isImplicit: true)
            }
        }
        guard throughSymlink else { return }
        try refuseEscape(RootPath.parent(of: path), entry: entry)
    }

    /// Refuses `directory` when reaching it through the symlinks indexed so far leaves the root, as tar (GNU
    /// tar, busybox's at boot) extracts it: through a `..` that climbs too high, or any absolute link target,
    /// which tar follows to the extracting system's own files. A tree archived by tar never has an entry below
    /// one of its own symlinks, so only a crafted archive is refused.
    private func refuseEscape(_ directory: String, entry: String) throws {
        do {
            _ = try resolve(directory, followingFinal: true, entry: entry, asExtracted: true)
        } catch let error as EditPlanError {
            switch error {
            case .escapesRoot, .symlinkLoop: throw error
            default: return  // a file used as a directory fails at extraction; not a safety matter
            }
        }
    }

    /// The node at a normalized path (`""` is the root, always a directory).
    public func node(at path: String) -> Node? {
        if path.isEmpty { return nodes[path] ?? Node(kind: .directory, permissions: 0o755, isImplicit: true) }
        return nodes[path]
    }

    public subscript(path: String) -> Node? { node(at: path) }

    /// Distinct paths known, implicit directories included.
    public var count: Int { nodes.count }

    /// Every distinct path known (normalized, relative to the root), implicit directories included; unordered.
    public var paths: Dictionary<String, Node>.Keys { nodes.keys }

    /// Whether other entries are hard links to `path`.
    public func isHardlinkTarget(_ path: String) -> Bool { hardlinkTargets.contains(path) }

    /// Resolves a normalized path through this root's symlinks (usrmerge: `bin/foo` -> `usr/bin/foo`).
    ///
    /// - Throws: `EditPlanError.escapesRoot`, `.symlinkLoop` or `.notADirectory`, naming `path`.
    public func resolve(_ path: String, followingFinalSymlink: Bool = true) throws -> String {
        try resolve(path, followingFinal: followingFinalSymlink, entry: path)
    }

    // MARK: Unit files

    /// Whether the scan should pass this entry's data to `recordContents(_:of:)`: a regular unit file directly in
    /// a unit directory, not empty and no larger than `contentLimit`. Call after `add(_:)` for the entry.
    public func wantsContents(of path: String) -> Bool {
        guard let path = try? RootPath.normalize(path), let node = nodes[path], node.kind == .regular,
              node.size > 0 else { return false }
        if isKept(path, size: node.size) { return true }
        guard node.size <= contentLimit else { return false }
        return Self.unitDirectories.contains(RootPath.parent(of: path)) && UnitName.hasUnitSuffix(RootPath.name(of: path))
    }

    /// The largest entry `wantsContents(of:)` may ask for: what `readAll(limit:)` should allow.
    public var contentReadLimit: Int {
        Self.keptFiles.reduce(contentLimit) { max($0, Int($1.limit)) }
    }

    private func isKept(_ path: String, size: Int64) -> Bool {
        contentLimit > 0 && Self.keptFiles.contains { path.hasPrefix($0.prefix) && size <= $0.limit }
    }

    /// The whole contents of a kept file (see `keptFiles`), if the scan recorded them. `path` may be given
    /// absolute ("/etc/emts/installer.yaml") or as the archive names it.
    public func keptContents(of path: String) -> [UInt8]? {
        guard let path = try? RootPath.normalize(String(path.drop(while: { $0 == "/" }))) else { return nil }
        return keptContents[path] ?? nodes[path]?.hardlinkTarget.flatMap { keptContents[$0] }
    }

    /// The paths whose contents were kept, sorted.
    public var keptPaths: [String] { keptContents.keys.sorted() }

    /// Takes the data of an entry `wantsContents(of:)` asked for. Of a unit file only its `[Install]` section
    /// is kept; a syntax error is kept too and reported only if a plan needs this unit. A kept file's bytes are
    /// kept whole.
    public mutating func recordContents(_ bytes: [UInt8], of path: String) {
        guard wantsContents(of: path), let path = try? RootPath.normalize(path) else { return }
        if let node = nodes[path], isKept(path, size: node.size) {
            keptContents[path] = bytes
            if !(Self.unitDirectories.contains(RootPath.parent(of: path)) && UnitName.hasUnitSuffix(RootPath.name(of: path))) {
                return
            }
        }
        do {
            installSections[path] = .success(try UnitInstallSection.parse(String(decoding: bytes, as: UTF8.self), unit: path))
        } catch let error as EditPlanError {
            installSections[path] = .failure(error)
        } catch {
            installSections[path] = .failure(.unitSyntax(unit: path, line: 0, message: "\(error)"))
        }
    }

    /// Whether the `[Install]` section of the unit file at `path` was recorded.
    public func hasRecordedContents(of path: String) -> Bool { recordedInstallSection(at: path) != nil }

    func recordedInstallSection(at path: String) -> Result<UnitInstallSection?, EditPlanError>? {
        if let recorded = installSections[path] { return recorded }
        if let target = nodes[path]?.hardlinkTarget { return installSections[target] }
        return nil
    }

    /// Symlinks in the unit directories: enablements in `*.wants/` and `*.requires/`, and aliases and masks
    /// directly in the directory. Sorted by path.
    public var unitLinks: [UnitLink] {
        unitLinkPaths.compactMap { path -> UnitLink? in
            guard let node = nodes[path], node.kind == .symlink, let (directory, relation) = Self.unitLinkRelation(of: path)
            else { return nil }
            return UnitLink(path: path, unitDirectory: directory, relation: relation, name: RootPath.name(of: path),
                            target: node.symlinkTarget ?? "")
        }.sorted { RootPath.precedes($0.path, $1.path) }
    }

    /// The symlinks in `*.wants/` and `*.requires/` of the unit directories, sorted by path.
    public var enablementLinks: [UnitLink] {
        unitLinks.filter { $0.relation != .alias }
    }

    /// Where the unit file `name` is (`caddy` means `caddy.service`), by systemd's precedence, through usrmerge
    /// links; an instance falls back to its template. `nil` when there is none or the name is invalid.
    public func unitFile(named name: String) -> String? {
        guard let unit = try? UnitName(normalizing: name) else { return nil }
        return locateUnitFile(unit)?.path
    }

    private static func unitLinkRelation(of path: String) -> (directory: String, relation: UnitLink.Relation)? {
        let parent = RootPath.parent(of: path)
        if unitDirectories.contains(parent) { return (parent, .alias) }
        let directory = RootPath.parent(of: parent)
        guard unitDirectories.contains(directory) else { return nil }
        let holder = RootPath.name(of: parent)
        if holder.hasSuffix(".wants") { return (directory, .wants(String(holder.dropLast(6)))) }
        if holder.hasSuffix(".requires") { return (directory, .requires(String(holder.dropLast(9)))) }
        return nil
    }
}

extension RootfsIndex: RootView {}

/// Where a unit's file was found.
struct UnitFileLocation: Equatable {
    /// The file's place (unit directory resolved through usrmerge links, its own name kept): what links point at.
    var path: String
    /// `path` with every symlink followed: where the text is.
    var contentPath: String
    /// A symlink to `/dev/null`.
    var isMask: Bool
    /// Found under the template's name for an instance.
    var isTemplate: Bool
}

extension RootView {
    /// Every file named `name` in the unit directories, by precedence, with duplicates (usrmerge) folded.
    /// Dangling symlinks and directories do not count.
    func unitFileLocations(named name: String, isTemplate: Bool = false) -> [UnitFileLocation] {
        var found: [UnitFileLocation] = []
        for directory in RootfsIndex.unitDirectories {
            guard let placed = try? resolve(directory, followingFinal: true, entry: directory) else { continue }
            let path = RootPath.join(placed, name)
            guard let node = node(at: path), !found.contains(where: { $0.path == path }) else { continue }
            let contentPath = (try? resolve(path, followingFinal: true, entry: path)) ?? path
            let isMask = contentPath == "dev/null" || node.symlinkTarget == "/dev/null"
            if !isMask {
                guard let content = self.node(at: contentPath), content.kind != .directory, content.kind != .symlink
                else { continue }
            }
            found.append(UnitFileLocation(path: path, contentPath: contentPath, isMask: isMask, isTemplate: isTemplate))
        }
        return found
    }

    /// The file systemd would load for `unit`: its own name first, then (for an instance) its template's.
    /// A mask counts: it is what systemd would find.
    func locateUnitFile(_ unit: UnitName) -> UnitFileLocation? {
        if let own = unitFileLocations(named: unit.rawValue).first { return own }
        if let template = unit.template { return unitFileLocations(named: template.rawValue, isTemplate: true).first }
        return nil
    }
}
