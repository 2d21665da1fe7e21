import ArchiveKit
import PackageKit

extension EditPlanDraft {
    /// Plans the injection of the requested packages and their dependency closure.
    ///
    /// What the root has: on a Debian root (one whose `var/lib/dpkg/status` the scan kept), dpkg's status plus the
    /// root's files; otherwise (RPM) the root's files and shared libraries plus emts-iso's own record of packages
    /// injected before (the rpm database is not read). Each chosen package's payload headers are read (data is
    /// skipped) to place every entry: through the root's symlinks (usrmerge), directories the root has left as
    /// they are, files the root has replaced (listed). Debian packages are registered in dpkg's database; every
    /// injected package is added to `MicroOSFacts.packagesRecord`.
    ///
    /// - Throws: `PackageInjectionError`, naming the package file or the missing dependencies.
    mutating func inject(_ request: PackageRequest) throws {
        let index = view.index
        let record = try InjectedPackagesRecord(json: index.keptContents(of: InjectedPackagesRecord.path))
        let status = index.keptContents(of: DpkgRegistration.statusPath)
        if status == nil, index.node(at: DpkgRegistration.statusPath) != nil {
            throw PackageInjectionError.database(path: "/" + DpkgRegistration.statusPath,
                                                 message: "dpkg's status database is larger than the scan keeps")
        }
        let installed: any InstalledPackages
        if let status {
            do {
                installed = try DpkgStatusView(statusText: String(decoding: status, as: UTF8.self),
                                               path: "/" + DpkgRegistration.statusPath, files: Set(index.paths))
            } catch {
                throw PackageInjectionError.package(error)
            }
        } else {
            installed = RPMRootView(paths: Set(index.paths), packages: record.installed,
                                    usrMerged: index.node(at: "bin")?.kind == .symlink)
        }
        let selection = try Self.select(request, installed: installed)

        var injected: [InjectedPackage] = []
        var paragraphs: [String] = []
        for package in selection.packages {
            let (planned, payloadPaths) = try place(package)
            injected.append(planned)
            if case .deb(let debian) = package {
                let registration = DpkgRegistration(package: debian, payloadPaths: payloadPaths)
                paragraphs.append(registration.statusParagraph)
                for file in registration.infoFiles {
                    try addFile(EditRequest.File(destination: file.path, source: .inline(file.bytes)))
                }
            }
        }
        if let status, !paragraphs.isEmpty {
            try addFile(EditRequest.File(destination: DpkgRegistration.statusPath,
                                         source: .inline(DpkgRegistration.status(status, appending: paragraphs))))
        }
        if !injected.isEmpty {
            try addFile(EditRequest.File(destination: InjectedPackagesRecord.path,
                                         source: .inline(record.adding(injected).json)))
        }
        packages = PackageInjection(
            packages: injected,
            skipped: selection.skipped.map { skipped in
                let installed = skipped.installed
                let reason = installed.name == skipped.name ? "already present (\(installed.version))"
                    : "already present (provided by \(installed))"
                return PackageInjection.Skipped(name: skipped.name, reason: reason, version: installed.version.description)
            },
            warnings: selection.warnings)
    }

    /// Resolves the requested names and their closure against the repository.
    private static func select(_ request: PackageRequest, installed: any InstalledPackages) throws -> PackageSet {
        do {
            let repository = try PackageRepository(directory: request.directory)
            let resolver = DependencyResolver(repository: repository, installed: installed,
                                              options: ResolveOptions(allowMissing: request.allowMissingDependencies))
            return try resolver.resolve(request.names)
        } catch {
            throw PackageInjectionError.package(error)
        }
    }

    /// Reads the payload headers of `package` and places each entry; returns the planned package and its payload
    /// paths in order (for dpkg's file list).
    private mutating func place(_ package: PackageArchive) throws -> (InjectedPackage, [String]) {
        let name = package.metadata.description
        var entries: [InjectedPackage.Entry] = []
        var payloadPaths: [String] = []
        var placedBySource: [String: String] = [:]
        var replaced: [String] = []
        var fileCount = 0
        // Headers only (read ahead while the µOS was scanned, or here), the data skipped.
        let headers = prefetch?.headers(for: package.path) ?? PayloadHeaders.read(package)
        do {
            for entry in headers.entries {
                payloadPaths.append(entry.path)
                let placed = try placement(of: entry, package: package.path)
                placedBySource[entry.path] = placed
                if entry.kind == .directory, let existing = view.node(at: placed) {
                    guard existing.kind == .directory else {
                        throw PackageInjectionError.conflict(package: package.path, path: placed,
                                                             message: "a directory in \(name), but \(Self.describe(existing)) in the root")
                    }
                    continue
                }
                if entry.kind != .directory {
                    fileCount += 1
                    if try replaceExisting(at: placed, by: entry, package: package) { replaced.append(placed) }
                }
                var hardlink: String?
                if let target = entry.hardlinkTarget {
                    guard let placedTarget = placedBySource[target], packagePaths[placedTarget] == name else {
                        throw PackageInjectionError.conflict(package: package.path, path: placed,
                                                             message: "a hard link to \(target), which \(name) does not place before it")
                    }
                    hardlink = placedTarget
                }
                try addParents(of: placed, entry: entry.path, package: package.path)
                packagePaths[placed] = name
                view.added[placed] = RootfsIndex.Node(kind: entry.kind, permissions: entry.permissions, uid: entry.uid,
                                                      gid: entry.gid, size: entry.size, symlinkTarget: entry.symlinkTarget,
                                                      hardlinkTarget: hardlink)
                entries.append(InjectedPackage.Entry(source: entry.path, path: placed, hardlink: hardlink))
            }
            if let failure = headers.failure { throw failure }
        } catch let error as PackageError {
            throw PackageInjectionError.package(error)
        }
        let metadata = package.metadata
        return (InjectedPackage(name: metadata.name, version: metadata.version.description, architecture: metadata.architecture,
                                format: metadata.format, file: package.path, fileCount: fileCount, replaced: replaced,
                                entries: entries), payloadPaths)
    }

    /// Where a payload entry lands: a directory through every symlink (the package's `/lib` is the root's
    /// `usr/lib` when `lib -> usr/lib`), anything else through the symlinks of its parent (its own name kept).
    private func placement(of entry: PackagePayloadEntry, package: String) throws -> String {
        do {
            let path = try RootPath.normalize(String(entry.path.dropFirst()))
            return entry.kind == .directory ? try view.resolve(path, followingFinal: true, entry: entry.path)
                : try view.placement(of: path, entry: entry.path)
        } catch let error as EditPlanError {
            throw PackageInjectionError.unsafeEntry(package: package, entry: entry.path, reason: error)
        }
    }

    /// Removes the root's file or symlink at `placed` for the package's entry; true when there was one.
    /// Directories are never replaced, nor what the request or another package adds.
    private mutating func replaceExisting(at placed: String, by entry: PackagePayloadEntry,
                                          package: PackageArchive) throws -> Bool {
        guard let existing = view.node(at: placed) else { return false }
        let name = package.metadata.description
        if let other = packagePaths[placed] {
            throw PackageInjectionError.conflict(package: package.path, path: placed, message: "installed by both \(other) and \(name)")
        }
        if additions[placed] != nil {
            throw PackageInjectionError.conflict(package: package.path, path: placed, message: "added by the request and by \(name)")
        }
        if existing.kind == .directory || view.leadsToDirectory(placed) {
            throw PackageInjectionError.conflict(package: package.path, path: placed,
                                                 message: "\(name) has a \(entry.kind.rawValue) where the root has \(Self.describe(existing))")
        }
        do {
            try remove(placed, reason: .replacedByPackage(name: package.metadata.name))
        } catch let error as EditPlanError {
            throw PackageInjectionError.conflict(package: package.path, path: placed, message: error.description)
        }
        return true
    }

    /// Plans the directories missing above a package entry (most RPM payloads do not list the ones they share).
    private mutating func addParents(of placed: String, entry: String, package: String) throws {
        for ancestor in RootPath.ancestors(of: placed) {
            switch view.node(at: ancestor)?.kind {
            case nil:
                insert(EditPlan.Addition(path: ancestor, kind: .directory, permissions: 0o755, mtime: mtime,
                                         purpose: .parentDirectory))
            case .directory?:
                continue
            default:
                throw PackageInjectionError.unsafeEntry(package: package, entry: entry,
                                                        reason: .notADirectory(entry: entry, component: ancestor))
            }
        }
    }
}
