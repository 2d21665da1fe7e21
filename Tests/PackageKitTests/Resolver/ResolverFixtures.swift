@testable import PackageKit

/// Repository packages from metadata alone: the resolver never opens their files.
enum Synthetic {
    /// An RPM; requires and provides as rpm prints them (`beta >= 1.0`, `(a or b)`, `/bin/sh`).
    static func rpm(_ name: String, _ version: String, arch: String = "x86_64", requires: [String] = [],
                    provides: [String] = [], files: [String] = []) -> PackageArchive {
        let metadata = PackageMetadata(
            format: .rpm, name: name, version: PackageVersion(parsing: version, format: .rpm), architecture: arch,
            provides: provides.map { text in
                let dependency = rpmDependency(text)
                return PackageProvide(name: dependency.name, version: dependency.constraint?.version)
            },
            requirements: requires.flatMap { RPMRichDependency.requirements(for: rpmDependency($0)) },
            files: files)
        return .rpm(RPMPackage(path: "/repo/\(metadata).rpm", metadata: metadata))
    }

    /// A Debian package; relation fields as in a control file.
    static func deb(_ name: String, _ version: String, arch: String = "amd64", depends: String = "",
                    preDepends: String = "", provides: String = "") throws -> PackageArchive {
        let metadata = PackageMetadata(
            format: .deb, name: name, version: PackageVersion(parsing: version, format: .deb), architecture: arch,
            provides: try DebianRelations.provides(provides),
            requirements: try DebianRelations.requirements(preDepends, kind: .preDepends)
                + DebianRelations.requirements(depends, kind: .depends))
        return .deb(DebianPackage(path: "/repo/\(metadata).deb", metadata: metadata))
    }

    /// `name [op version]`, or a whole rich dependency in parentheses.
    static func rpmDependency(_ text: String) -> Dependency {
        if text.hasPrefix("(") { return Dependency(name: text) }
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 3 else { return Dependency(name: text) }
        let relations: [String: VersionConstraint.Relation] = ["<": .less, "<=": .lessOrEqual, "=": .equal,
                                                               ">=": .greaterOrEqual, ">": .greater]
        return Dependency(name: parts[0], constraint: relations[parts[1]].map {
            VersionConstraint($0, PackageVersion(parsing: parts[2], format: .rpm))
        })
    }
}

extension PackageSet {
    /// The chosen packages as `name-version` / `name_version`, in install order.
    var chosen: [String] { packages.map { "\($0.metadata.name) \($0.metadata.version)" } }
}

func resolve(_ names: [String], _ packages: [PackageArchive], installed: any InstalledPackages,
             allowMissing: Bool = false) throws(PackageError) -> PackageSet {
    try DependencyResolver(repository: PackageRepository(packages: packages), installed: installed,
                           options: ResolveOptions(allowMissing: allowMissing)).resolve(names)
}

/// The missing dependencies a resolution throws, or an empty list when it does not throw.
func missing(_ names: [String], _ packages: [PackageArchive], installed: any InstalledPackages) -> [MissingDependency] {
    do {
        _ = try resolve(names, packages, installed: installed)
        return []
    } catch {
        guard case .unresolved(let missing) = error else { return [] }
        return missing
    }
}
