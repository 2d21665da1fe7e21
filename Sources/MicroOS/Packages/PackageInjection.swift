import PackageKit

/// The package part of an edit plan: which packages are injected (with where each of their files lands),
/// which requested ones the root already has, and what could not be resolved.
///
/// Computed before anything is written, like the rest of the plan: `--dry-run` prints it, the manifest records
/// it, and the rewriter streams each package's payload into the root filesystem archive as it says.
/// Maintainer scripts are never run: the files are placed and (for Debian) registered in dpkg's database,
/// nothing more.
public struct PackageInjection: Codable, Sendable, Equatable {
    /// A requested package not injected because the root has it.
    public struct Skipped: Codable, Sendable, Equatable {
        public var name: String
        /// "already present (2.2.3-1)", "already present (provided by mawk 1.3.4)".
        public var reason: String
        /// The version the root has.
        public var version: String

        public init(name: String, reason: String, version: String) {
            self.name = name
            self.reason = reason
            self.version = version
        }
    }

    /// What the manifest says about scripts: they are not run.
    public static let maintainerScripts = "not run: files are placed and registered only"

    /// Packages to inject, every package after the ones it depends on.
    public var packages: [InjectedPackage]
    public var skipped: [Skipped]
    /// Unresolved dependencies let through by `--allow-missing-deps`, and replacements of installed packages.
    public var warnings: [String]
    public var maintainerScripts: String

    /// No packages requested.
    public static let none = PackageInjection(packages: [], skipped: [], warnings: [])

    public init(packages: [InjectedPackage], skipped: [Skipped], warnings: [String],
                maintainerScripts: String = PackageInjection.maintainerScripts) {
        self.packages = packages
        self.skipped = skipped
        self.warnings = warnings
        self.maintainerScripts = maintainerScripts
    }

    /// Nothing injected, skipped or warned about.
    public var isEmpty: Bool { packages.isEmpty && skipped.isEmpty && warnings.isEmpty }

    /// One line per package, for `--dry-run`.
    var lines: [String] {
        var lines = packages.map { package in
            let replaced = package.replaced.isEmpty ? "" : ", replacing \(package.replaced.count): "
                + package.replaced.prefix(3).joined(separator: " ") + (package.replaced.count > 3 ? " ..." : "")
            return "inject \(package.name) \(package.version) \(package.architecture) (\(package.format.rawValue), "
                + "\(package.fileCount) files\(replaced))"
        }
        lines += skipped.map { "skip   \($0.name): \($0.reason)" }
        lines += warnings.map { "warn   \($0)" }
        if !packages.isEmpty { lines.append("note   maintainer scripts are not run") }
        return lines
    }

    private enum CodingKeys: String, CodingKey { case packages, skipped, warnings, maintainerScripts }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(packages: try container.decode([InjectedPackage].self, forKey: .packages),
                  skipped: try container.decode([Skipped].self, forKey: .skipped),
                  warnings: try container.decode([String].self, forKey: .warnings),
                  maintainerScripts: try container.decodeIfPresent(String.self, forKey: .maintainerScripts)
                      ?? Self.maintainerScripts)
    }
}
