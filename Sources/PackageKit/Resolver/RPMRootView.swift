/// The installed state of an RPM root described by its files, for when its rpm database cannot be read:
/// names are matched against a list of known installed packages, file and shared-library requires against
/// the set of paths present in the root.
public struct RPMRootView: InstalledPackages, Sendable {
    public var format: PackageFormat { .rpm }
    /// The packages known to be installed (may be empty).
    public let packages: [InstalledPackage]
    /// Whether `/bin`, `/sbin`, `/lib` and `/lib64` are links into `/usr` (as on the µOS): then `/bin/sh` is
    /// present when `/usr/bin/sh` is.
    public let usrMerged: Bool
    private let byProvidedName: [String: [Int]]
    private let paths: Set<String>

    /// `paths` are the root's paths, absolute or relative to the root (`/usr/bin/x`, `usr/bin/x`, `./usr/bin/x`).
    public init(paths: Set<String>, packages: [InstalledPackage] = [], usrMerged: Bool = true) {
        self.packages = packages
        self.usrMerged = usrMerged
        self.byProvidedName = InstalledPackageIndex.byProvidedName(packages)
        self.paths = RootPaths.normalized(paths)
    }

    public func packages(providing name: String) -> [InstalledPackage] {
        (byProvidedName[name] ?? []).map { packages[$0] }
    }

    public func containsFile(atPath path: String) -> Bool {
        RootPaths.contains(path, in: paths, usrMerged: usrMerged)
    }
}

/// Lookup of installed packages by every name they answer to.
enum InstalledPackageIndex {
    static func byProvidedName(_ packages: [InstalledPackage]) -> [String: [Int]] {
        var index: [String: [Int]] = [:]
        for (number, package) in packages.enumerated() {
            for name in Set(package.allProvides.map(\.name)) { index[name, default: []].append(number) }
        }
        return index
    }
}

/// Root paths in the absolute normal form payload entries use.
enum RootPaths {
    static let usrMergedDirectories = ["/bin/", "/sbin/", "/lib/", "/lib64/"]

    static func normalized(_ paths: Set<String>) -> Set<String> {
        Set(paths.compactMap { PackagePath.normalize($0) })
    }

    static func contains(_ path: String, in paths: Set<String>, usrMerged: Bool) -> Bool {
        guard let path = PackagePath.normalize(path) else { return false }
        if paths.contains(path) { return true }
        guard usrMerged, usrMergedDirectories.contains(where: { path.hasPrefix($0) }) else { return false }
        return paths.contains("/usr" + path)
    }
}
