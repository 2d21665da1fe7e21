import ArchiveKit

extension EditPlan {
    /// Computes every change `request` makes to the rootfs that `index` describes, or says why it cannot.
    ///
    /// Order of work: the request's directories (parents first), symlinks, files; then units to disable; then
    /// units to enable, so an enabled unit may live in a file the same request adds. Every path is placed through
    /// the root's symlinks (usrmerge: `/bin/foo` lands at `usr/bin/foo`; `bin` stays a symlink).
    ///
    /// Touches the host disk only to read a host file that is the unit file of a unit to enable.
    ///
    /// - Throws: `EditPlanError`, naming the path or unit at fault.
    public static func resolve(_ request: EditRequest, against index: RootfsIndex) throws -> EditPlan {
        try resolve(request, against: index, prefetch: nil)
    }

    /// `resolve`, taking the packages' payload headers from `prefetch` where it read them.
    static func resolve(_ request: EditRequest, against index: RootfsIndex, prefetch: PayloadPrefetch?) throws -> EditPlan {
        var draft = EditPlanDraft(index: index, mtime: request.mtime)
        draft.prefetch = prefetch
        let disabled = ordered(try request.disableUnits.map(UnitName.init(normalizing:)))
        let enabled = ordered(try request.enableUnits.map(UnitName.init(normalizing:)))
        if let unit = enabled.first(where: Set(disabled).contains) {
            throw EditPlanError.enabledAndDisabled(unit: unit.rawValue)
        }
        let directories = try request.directories
            .map { (path: try RootPath.normalize(requested: $0.path), request: $0) }
            .sorted { RootPath.precedes($0.path, $1.path) }
        for directory in directories { try draft.addDirectory(directory.request, at: directory.path) }
        for symlink in request.symlinks { try draft.addSymlink(symlink) }
        for file in request.files { try draft.addFile(file) }
        if let packages = request.packages { try draft.inject(packages) }
        for unit in disabled { try draft.disable(unit) }
        try draft.enable(enabled, disabled: Set(disabled))
        return draft.plan
    }

    private static func ordered(_ units: [UnitName]) -> [UnitName] {
        var seen = Set<UnitName>()
        return units.filter { seen.insert($0).inserted }
    }
}

/// The plan being built, and the rootfs as it will look with the changes made so far.
struct EditPlanDraft {
    /// The index with the planned removals and additions applied.
    struct View: RootView {
        let index: RootfsIndex
        var added: [String: RootfsIndex.Node] = [:]
        var removed: Set<String> = []

        func node(at path: String) -> RootfsIndex.Node? {
            if let node = added[path] { return node }
            if removed.contains(path) { return nil }
            return index.node(at: path)
        }
    }

    var view: View
    let mtime: Int64
    var removals: [String: EditPlan.Removal] = [:]
    var additions: [String: EditPlan.Addition] = [:]
    var notes: [String] = []
    var packages = PackageInjection.none
    /// Package payload headers read while the µOS was scanned.
    var prefetch: PayloadPrefetch?
    /// Placed paths of injected packages' entries, with the package each comes from.
    var packagePaths: [String: String] = [:]

    init(index: RootfsIndex, mtime: Int64) {
        view = View(index: index)
        self.mtime = mtime
    }

    var plan: EditPlan {
        EditPlan(removals: Array(removals.values), additions: Array(additions.values), notes: notes, packages: packages)
    }

    // MARK: Primitive changes

    mutating func remove(_ path: String, reason: EditPlan.Removal.Reason) throws {
        guard additions[path] == nil else {
            throw EditPlanError.conflict(path: path, message: "added by the request and removed by the plan")
        }
        guard removals[path] == nil else { return }
        if view.index.isHardlinkTarget(path) { throw EditPlanError.replacesHardlinkedFile(path: path) }
        removals[path] = EditPlan.Removal(path: path, reason: reason)
        view.removed.insert(path)
    }

    /// Adds an entry at a placed path, with the missing directories above it. The same entry twice is one entry.
    mutating func add(_ addition: EditPlan.Addition, entry: String) throws {
        if let existing = additions[addition.path] {
            if existing.sameEntry(as: addition) { return }
            throw EditPlanError.conflict(path: addition.path,
                                         message: "added twice, differently: \(existing.line) / \(addition.line)")
        }
        for ancestor in RootPath.ancestors(of: addition.path) {
            switch view.node(at: ancestor)?.kind {
            case nil:
                insert(EditPlan.Addition(path: ancestor, kind: .directory, permissions: 0o755, mtime: mtime,
                                         purpose: .parentDirectory))
            case .directory?:
                continue
            default:
                throw EditPlanError.notADirectory(entry: entry, component: ancestor)
            }
        }
        insert(addition)
    }

    mutating func insert(_ addition: EditPlan.Addition) {
        additions[addition.path] = addition
        view.added[addition.path] = RootfsIndex.Node(
            kind: addition.kind, permissions: addition.permissions, uid: addition.uid, gid: addition.gid,
            size: addition.size, symlinkTarget: addition.symlinkTarget)
    }

    // MARK: Requested entries

    /// A directory is placed through symlinks, the last component too: asking for `/bin` where `bin -> usr/bin`
    /// means `usr/bin`. An existing directory is left as it is (its mode and owner are not changed).
    mutating func addDirectory(_ directory: EditRequest.Directory, at path: String) throws {
        let placed = try view.resolve(path, followingFinal: true, entry: directory.path)
        if let existing = view.node(at: placed) {
            guard existing.kind == .directory else {
                throw EditPlanError.conflict(path: placed, message: "cannot add a directory: \(Self.describe(existing)) is there")
            }
            let through = placed == path ? "" : " (at \(placed), through symlinks)"
            notes.append("\(path): already a directory\(through); left as it is")
            return
        }
        try add(EditPlan.Addition(path: placed, kind: .directory, permissions: directory.permissions,
                                  uid: directory.uid, gid: directory.gid, mtime: directory.mtime ?? mtime,
                                  purpose: .requested(path: path)),
                entry: directory.path)
    }

    /// A symlink replaces a file or symlink at its place, never a directory.
    mutating func addSymlink(_ symlink: EditRequest.Symlink) throws {
        let path = try RootPath.normalize(requested: symlink.path)
        guard !symlink.target.isEmpty, !symlink.target.utf8.contains(0) else {
            throw EditPlanError.invalidSymlinkTarget(path: path, target: symlink.target)
        }
        let placed = try view.placement(of: path, entry: symlink.path)
        if let existing = view.node(at: placed) {
            if existing.kind == .directory {
                throw EditPlanError.conflict(path: placed, message: "cannot replace a directory with a symlink")
            }
            if additions[placed] == nil {
                if existing.kind == .symlink, existing.symlinkTarget == symlink.target {
                    notes.append("\(placed): already a symlink to \(symlink.target); left as it is")
                    return
                }
                try remove(placed, reason: .replacedByAddition)
            }
        }
        try add(EditPlan.Addition(path: placed, kind: .symlink, permissions: 0o777, uid: symlink.uid, gid: symlink.gid,
                                  mtime: symlink.mtime ?? mtime, symlinkTarget: symlink.target,
                                  purpose: .requested(path: path)),
                entry: symlink.path)
    }

    /// A file replaces a file or a symlink that does not lead to a directory; never a directory.
    mutating func addFile(_ file: EditRequest.File) throws {
        let path = try RootPath.normalize(requested: file.destination)
        let placed = try view.placement(of: path, entry: file.destination)
        if let existing = view.node(at: placed) {
            if existing.kind == .directory {
                throw EditPlanError.conflict(path: placed, message: "cannot replace a directory with a file")
            }
            if existing.kind == .symlink, view.leadsToDirectory(placed) {
                throw EditPlanError.conflict(
                    path: placed,
                    message: "a symlink to a directory (-> \(existing.symlinkTarget ?? "")); it is never replaced by a file")
            }
            if additions[placed] == nil { try remove(placed, reason: .replacedByAddition) }
        }
        try add(EditPlan.Addition(path: placed, kind: .regular, permissions: file.permissions, uid: file.uid,
                                  gid: file.gid, mtime: file.mtime ?? mtime, source: file.source,
                                  purpose: .requested(path: path)),
                entry: file.destination)
    }
}

extension EditPlanDraft {
    /// "a regular file", "a symlink to X", ... for messages.
    static func describe(_ node: RootfsIndex.Node) -> String {
        switch node.kind {
        case .regular: "a regular file"
        case .directory: "a directory"
        case .symlink: "a symlink to \(node.symlinkTarget ?? "")"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        case .fifo: "a FIFO"
        case .socket: "a socket"
        }
    }
}
