/// The installed packages of a Debian root, from dpkg's status database (`var/lib/dpkg/status`).
///
/// A package counts as installed when its `Status:` ends in "ok installed" (`install ok installed`,
/// `hold ok installed`); half-installed, config-files-only and not-installed paragraphs are ignored.
public struct DpkgStatusView: InstalledPackages, Sendable {
    public var format: PackageFormat { .deb }
    /// The installed packages, in the status file's order.
    public let packages: [InstalledPackage]
    private let byProvidedName: [String: [Int]]
    private let files: Set<String>

    /// Parses the text of a status file; `path` names it in errors; `files` are the root's paths (absolute),
    /// for `containsFile(atPath:)` (dpkg dependencies never name files, so it may stay empty).
    /// - Throws: `PackageError.corrupt` naming `path` for a malformed paragraph or relation.
    public init(statusText: String, path: String = "/var/lib/dpkg/status", files: Set<String> = []) throws(PackageError) {
        let paragraphs: [DebianControlParagraph]
        do {
            paragraphs = try DebianControlParagraph.parse(statusText)
        } catch {
            throw .corrupt(path: path, reason: "\(error)")
        }
        var packages: [InstalledPackage] = []
        for paragraph in paragraphs {
            let status = (paragraph["Status"] ?? "").split(separator: " ")
            guard status.count == 3, status[1] == "ok", status[2] == "installed",
                  let name = paragraph["Package"]?.trimmedBlanks, !name.isEmpty,
                  let version = paragraph["Version"]?.trimmedBlanks, !version.isEmpty else { continue }
            let provides: [PackageProvide]
            do {
                provides = try DebianRelations.provides(paragraph["Provides"] ?? "")
            } catch {
                throw .corrupt(path: path, reason: "package \(name): Provides: \(error.message)")
            }
            packages.append(InstalledPackage(name: name, version: PackageVersion(parsing: version, format: .deb),
                                             architecture: paragraph["Architecture"]?.trimmedBlanks, provides: provides))
        }
        self.packages = packages
        self.byProvidedName = InstalledPackageIndex.byProvidedName(packages)
        self.files = RootPaths.normalized(files)
    }

    public func packages(providing name: String) -> [InstalledPackage] {
        (byProvidedName[name] ?? []).map { packages[$0] }
    }

    public func containsFile(atPath path: String) -> Bool {
        RootPaths.contains(path, in: files, usrMerged: false)
    }
}
