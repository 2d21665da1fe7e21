/// Computes which repository packages to install so that the requested ones and everything they need are
/// present in the target root.
///
/// For each requested name: skipped when the root has it; else the newest fitting repository package (same
/// format as the root, an accepted architecture) is chosen, then each of its requirements is satisfied, in
/// order of preference, by an installed package or provide, a package already chosen, (RPM) a file or shared
/// library present in the root, or a repository package chosen in turn. Of Debian alternatives the first
/// that resolves completely wins. Version bounds are honoured throughout; `rpmlib(...)` requirements are
/// rpm's own and ignored. Conflicts and obsoletes are not considered.
public struct DependencyResolver {
    public let repository: PackageRepository
    public let installed: any InstalledPackages
    public let options: ResolveOptions

    public init(repository: PackageRepository, installed: any InstalledPackages, options: ResolveOptions = ResolveOptions()) {
        self.repository = repository
        self.installed = installed
        self.options = options
    }

    /// Resolves the closure of `names`.
    /// - Throws: `PackageError.unresolved` listing every requirement nothing satisfies and who needs it,
    ///   unless `options.allowMissing` is set (then they are in the result's `missing` and `warnings`).
    public func resolve(_ names: [String]) throws(PackageError) -> PackageSet {
        let index = RepositoryIndex(repository: repository, format: installed.format, architectures: options.architectures)
        var state = ResolutionState()
        var skipped: [SkippedPackage] = []
        var seen: Set<String> = []
        for name in names where seen.insert(name).inserted {
            let request = Dependency(name: name)
            let present = installed.packages(providing: name)
            if let package = present.first(where: { $0.name == name }) ?? present.first {
                skipped.append(SkippedPackage(name: name, installed: package))
                continue
            }
            if isMet(request, state: state, index: index) { continue }
            if let candidate = index.bestCandidate(for: request) {
                select(candidate, state: &state, index: index)
            } else {
                let requirement = Requirement(installed.format == .rpm ? .requires : .depends, [request])
                state.missing.append(MissingDependency(requirement: requirement, neededBy: .request,
                                                       reason: explain(requirement, index: index)))
            }
        }
        if !state.missing.isEmpty, !options.allowMissing { throw .unresolved(state.missing) }
        let warnings = state.warnings + state.missing.map { "unresolved dependency \($0)" }
        return PackageSet(packages: state.order.map { repository.packages[$0] }, skipped: skipped,
                          missing: state.missing, warnings: warnings)
    }

    /// Chooses `package` and satisfies its requirements; it joins the order after them.
    private func select(_ package: Int, state: inout ResolutionState, index: RepositoryIndex) {
        guard state.chosen.insert(package).inserted else { return }
        let metadata = repository.packages[package].metadata
        for requirement in metadata.requirements where !requirement.isRPMLibFeature {
            satisfy(requirement, neededBy: metadata, state: &state, index: index)
        }
        state.order.append(package)
    }

    private func satisfy(_ requirement: Requirement, neededBy: PackageMetadata, state: inout ResolutionState,
                         index: RepositoryIndex) {
        if requirement.alternatives.contains(where: { isMet($0, state: state, index: index) }) { return }
        // Try each alternative that has a candidate; keep the first whose closure resolves completely, or
        // else the first tried, so its missing dependencies are the ones reported.
        var fallback: ResolutionState?
        for dependency in requirement.alternatives {
            guard let candidate = index.bestCandidate(for: dependency) else { continue }
            var trial = state
            noteReplacement(of: dependency, by: candidate, state: &trial)
            select(candidate, state: &trial, index: index)
            if trial.missing.count == state.missing.count {
                state = trial
                return
            }
            if fallback == nil { fallback = trial }
        }
        if let fallback {
            state = fallback
            return
        }
        state.missing.append(MissingDependency(requirement: requirement, neededBy: .package(neededBy.description),
                                               reason: explain(requirement, index: index)))
    }

    /// Whether `dependency` is met without choosing another package.
    private func isMet(_ dependency: Dependency, state: ResolutionState, index: RepositoryIndex) -> Bool {
        let format = installed.format
        if dependency.isRPMLibFeature { return true }
        if installed.packages(providing: dependency.name).contains(where: { $0.satisfies(dependency, format: format) }) {
            return true
        }
        if index.providers(of: dependency).contains(where: { state.chosen.contains($0) }) { return true }
        guard format == .rpm else { return false }
        if dependency.isFilePath { return installed.containsFile(atPath: dependency.name) }
        if let library = dependency.sharedLibraryFileName { return hasLibrary(library) }
        if dependency.name.hasPrefix("rtld(") { return Self.dynamicLoaders.contains(where: hasLibrary) }
        return false
    }

    /// The dynamic loaders whose presence means the root's glibc provides `rtld(GNU_HASH)`.
    private static let dynamicLoaders = ["ld-linux-x86-64.so.2", "ld-linux.so.2", "ld-linux-aarch64.so.1"]

    private func hasLibrary(_ fileName: String) -> Bool {
        options.libraryDirectories.contains { installed.containsFile(atPath: $0 + "/" + fileName) }
    }

    /// An installed package of the candidate's name that does not satisfy the dependency gets replaced: say so.
    private func noteReplacement(of dependency: Dependency, by candidate: Int, state: inout ResolutionState) {
        let chosen = repository.packages[candidate].metadata
        for old in installed.packages(providing: chosen.name) where old.name == chosen.name {
            state.warnings.append("\(chosen) replaces the installed \(old), which does not satisfy \(dependency)")
        }
    }

    /// Why no alternative of `requirement` can be satisfied, one phrase per alternative.
    private func explain(_ requirement: Requirement, index: RepositoryIndex) -> String {
        requirement.alternatives.map { dependency in
            var facts: [String] = []
            let installedOnes = installed.packages(providing: dependency.name)
            if !installedOnes.isEmpty {
                facts.append("installed \(installedOnes.map(\.description).joined(separator: ", ")) does not satisfy it")
            }
            let unfit = index.unsatisfyingCandidates(for: dependency)
            if !unfit.isEmpty {
                let shown = unfit.prefix(3).map(\.description).joined(separator: ", ")
                facts.append("the repository has \(shown)\(unfit.count > 3 ? " and more" : ""), not satisfying \(dependency)")
            }
            let excluded = index.excludedProviders(of: dependency.name)
            if !excluded.isEmpty {
                let shown = excluded.prefix(3).map { "\($0.description) (\($0.format == installed.format ? $0.architecture : "." + $0.format.rawValue))" }
                facts.append("not usable here: \(shown.joined(separator: ", "))")
            }
            if facts.isEmpty {
                if dependency.name.hasPrefix("(") {
                    facts.append("a boolean dependency this resolver does not evaluate")
                } else if dependency.isFilePath {
                    facts.append("no such file in the target root and no repository package owns it")
                } else if let library = dependency.sharedLibraryFileName {
                    facts.append("no \(library) in the target root's library directories and no repository package provides it")
                } else {
                    facts.append("not installed and no repository package provides it")
                }
            }
            let text = facts.joined(separator: "; ")
            return requirement.alternatives.count > 1 ? "\(dependency.name): \(text)" : text
        }.joined(separator: "; ")
    }
}

/// The resolver's progress: a value, so an alternative can be tried on a copy and dropped.
struct ResolutionState {
    /// Repository indexes chosen so far (including those whose requirements are still being satisfied).
    var chosen: Set<Int> = []
    /// Chosen packages in install order.
    var order: [Int] = []
    var missing: [MissingDependency] = []
    var warnings: [String] = []
}
