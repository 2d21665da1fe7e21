/// Paths inside the root filesystem being edited.
///
/// The normal form has no leading `./` or `/`, no trailing `/`, and no `.` components: `etc/x`. The root itself is
/// the empty string. Every path the index stores and the plan names is in this form.
public enum RootPath {
    /// Symlinks followed while resolving one path before giving up (Linux uses the same number).
    public static let symlinkHopLimit = 40

    /// Normalizes an archive entry path: `./etc/x`, `etc/x` and `etc/x/` become `etc/x`; `.` and `./` become `""`.
    ///
    /// Throws `EditPlanError.unsafePath` naming the entry when the path is empty or absolute, has a `..` or empty
    /// component, or contains a NUL byte.
    public static func normalize(_ archivePath: String) throws -> String {
        if archivePath.isEmpty { throw EditPlanError.unsafePath(entry: archivePath, problem: .empty) }
        if archivePath.utf8.contains(0) { throw EditPlanError.unsafePath(entry: archivePath, problem: .nul) }
        if archivePath.utf8.first == UInt8(ascii: "/") {
            throw EditPlanError.unsafePath(entry: archivePath, problem: .absolute)
        }
        var parts = archivePath.split(separator: "/", omittingEmptySubsequences: false)
        var changed = false
        // tar writes directories with one trailing slash.
        if parts.count > 1, parts[parts.count - 1].isEmpty {
            parts.removeLast()
            changed = true
        }
        var kept: [Substring] = []
        kept.reserveCapacity(parts.count)
        for part in parts {
            switch part {
            case "": throw EditPlanError.unsafePath(entry: archivePath, problem: .emptyComponent)
            case ".": continue
            case "..": throw EditPlanError.unsafePath(entry: archivePath, problem: .parentComponent)
            default: kept.append(part)
            }
        }
        return kept.count == parts.count && !changed ? archivePath : kept.joined(separator: "/")
    }

    /// Normalizes a path as a user names it in a request: `/usr/bin/x` and `usr/bin/x` are the same place.
    /// The root itself cannot be requested.
    public static func normalize(requested path: String) throws -> String {
        let relative = String(path.drop { $0 == "/" })
        if relative.isEmpty { throw EditPlanError.unsafePath(entry: path, problem: .empty) }
        let normal: String
        do {
            normal = try normalize(relative)
        } catch EditPlanError.unsafePath(_, let problem) {
            throw EditPlanError.unsafePath(entry: path, problem: problem)
        }
        if normal.isEmpty { throw EditPlanError.unsafePath(entry: path, problem: .empty) }
        return normal
    }

    /// The directory holding `path` (`""` for a top-level name).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    public static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `parent/name`, or `name` at the root.
    public static func join(_ parent: String, _ name: String) -> String {
        parent.isEmpty ? name : parent + "/" + name
    }

    /// The proper ancestors of `path`, outermost first, without the root: `a/b/c` -> `a`, `a/b`.
    public static func ancestors(of path: String) -> [String] {
        path.indices.filter { path[$0] == "/" }.map { String(path[..<$0]) }
    }

    /// Hierarchy order: component by component, so a directory precedes everything below it
    /// (`a` < `a/b` < `a-b`). Deterministic for any two strings.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if x == y { continue }
                // The separator sorts before every other byte.
                let slash = UInt8(ascii: "/")
                return (x == slash ? 0 : Int(x) + 1) < (y == slash ? 0 : Int(y) + 1)
            }
        }
    }
}

/// Something that answers "what is at this normalized path": the index of the archive, or the index with the
/// plan's changes applied so far.
protocol RootView {
    func node(at path: String) -> RootfsIndex.Node?
}

extension RootView {
    /// Resolves `path` through the symlinks of this root, as the kernel would inside it (absolute link targets
    /// start again at this root). Components that do not exist are kept as written.
    ///
    /// - Parameter followingFinal: whether a symlink in the last component is followed too.
    /// - Parameter entry: the path named in errors (what the user or the archive asked for).
    /// - Parameter asExtracted: resolve as tar extracts the archive into a directory rather than as the kernel
    ///   inside the root: an absolute link target then leads out of the root (to the extracting system's own
    ///   `/etc`), so it throws `.escapesRoot` like a `..` that climbs too high.
    /// - Throws: `EditPlanError.escapesRoot` when a link's `..` climbs above the root, `.symlinkLoop` after
    ///   `RootPath.symlinkHopLimit` links, `.notADirectory` when a non-final component is a file.
    func resolve(_ path: String, followingFinal: Bool, entry: String, asExtracted: Bool = false) throws -> String {
        // Pending components, last one on top; each remembers which link (index into `links`) produced it.
        var pending: [(name: Substring, link: Int?)] = path.split(separator: "/").reversed().map { ($0, nil) }
        var links: [(path: String, target: String)] = []
        var resolved: [Substring] = []
        while let (component, origin) = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                if resolved.isEmpty {
                    let link = origin.map { links[$0] } ?? (path: path, target: path)
                    throw EditPlanError.escapesRoot(entry: entry, link: link.path, target: link.target)
                }
                resolved.removeLast()
                continue
            }
            let candidate = (resolved + [component]).joined(separator: "/")
            let isFinal = pending.isEmpty
            guard let node = node(at: candidate) else {
                resolved.append(component)
                continue
            }
            switch node.kind {
            case .symlink where !isFinal || followingFinal:
                guard links.count < RootPath.symlinkHopLimit else {
                    throw EditPlanError.symlinkLoop(entry: entry, link: candidate)
                }
                let target = node.symlinkTarget ?? ""
                links.append((candidate, target))
                if target.hasPrefix("/") {
                    if asExtracted { throw EditPlanError.escapesRoot(entry: entry, link: candidate, target: target) }
                    resolved.removeAll()
                }
                let linkIndex = links.count - 1
                pending.append(contentsOf: target.split(separator: "/").reversed().map { ($0, linkIndex) })
            case .directory, .symlink:
                resolved.append(component)
            default:
                if !isFinal { throw EditPlanError.notADirectory(entry: entry, component: candidate) }
                resolved.append(component)
            }
        }
        return resolved.joined(separator: "/")
    }

    /// Where an entry named `path` lands: its parent resolved through symlinks, its own name kept
    /// (so a symlink at `path` is replaced, not followed).
    func placement(of path: String, entry: String) throws -> String {
        let parent = RootPath.parent(of: path)
        if parent.isEmpty { return path }
        return RootPath.join(try resolve(parent, followingFinal: true, entry: entry), RootPath.name(of: path))
    }

    /// Whether `path` is a directory or a symlink that leads to one.
    func leadsToDirectory(_ path: String) -> Bool {
        guard let start = node(at: path) else { return false }
        if start.kind == .directory { return true }
        guard start.kind == .symlink, let resolved = try? resolve(path, followingFinal: true, entry: path) else {
            return false
        }
        return resolved.isEmpty || node(at: resolved)?.kind == .directory
    }
}
