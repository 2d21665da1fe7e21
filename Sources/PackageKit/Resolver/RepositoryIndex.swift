/// The repository's packages by every name they answer to: their own names, their provides and, for RPM,
/// the files they own (RPM satisfies a `/bin/sh` requirement by any package owning that path).
struct RepositoryIndex {
    private let packages: [PackageArchive]
    private let format: PackageFormat
    /// Usable packages (right format and architecture) with the provide that answers each name.
    private var usable: [String: [(package: Int, provide: PackageProvide)]] = [:]
    /// Packages of another format or architecture, by name and provides: only to explain a failure.
    private var excluded: [String: [Int]] = [:]

    init(repository: PackageRepository, format: PackageFormat, architectures: Set<String>) {
        packages = repository.packages
        self.format = format
        for (number, package) in packages.enumerated() {
            let metadata = package.metadata
            let fits = metadata.format == format && architectures.contains(metadata.architecture)
            for provide in metadata.allProvides {
                if fits { usable[provide.name, default: []].append((number, provide)) } else {
                    excluded[provide.name, default: []].append(number)
                }
            }
            if fits, metadata.format == .rpm {
                for file in metadata.files { usable[file, default: []].append((number, PackageProvide(name: file))) }
            }
        }
    }

    /// Usable packages meeting `dependency`.
    func providers(of dependency: Dependency) -> [Int] {
        (usable[dependency.name] ?? []).filter { $0.provide.satisfies(dependency, format: format) }.map(\.package)
    }

    /// The package to choose for `dependency`: a package of that very name before one merely providing it,
    /// then the newest version, then the first in file name order.
    func bestCandidate(for dependency: Dependency) -> Int? {
        var best: Int?
        for candidate in Set(providers(of: dependency)).sorted() {
            guard let current = best else {
                best = candidate
                continue
            }
            let a = packages[candidate].metadata, b = packages[current].metadata
            let exactA = a.name == dependency.name, exactB = b.name == dependency.name
            if exactA != exactB {
                if exactA { best = candidate }
            } else if a.version.isNewer(than: b.version) {
                best = candidate
            }
        }
        return best
    }

    /// Usable packages that answer to the dependency's name but not its version bound.
    func unsatisfyingCandidates(for dependency: Dependency) -> [PackageMetadata] {
        (usable[dependency.name] ?? []).filter { !$0.provide.satisfies(dependency, format: format) }
            .map { packages[$0.package].metadata }
    }

    /// Packages answering to `name` that the target cannot use.
    func excludedProviders(of name: String) -> [PackageMetadata] {
        (excluded[name] ?? []).map { packages[$0].metadata }
    }
}
