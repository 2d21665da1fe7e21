@testable import PackageKit
import Testing

@Suite struct DependencyResolverTests {
    private let emptyRoot = RPMRootView(paths: [])

    @Test func chainComesDependenciesFirst() throws {
        let repository = [
            Synthetic.rpm("alpha", "1.0-1", requires: ["beta >= 1.0"]),
            Synthetic.rpm("beta", "0.9-1", requires: ["gamma"]),
            Synthetic.rpm("beta", "1.1-1", requires: ["gamma-lib = 3"]),
            Synthetic.rpm("gamma", "3.0-2", provides: ["gamma-lib = 3"]),
            Synthetic.rpm("unrelated", "1-1"),
        ]
        let result = try resolve(["alpha"], repository, installed: emptyRoot)
        #expect(result.chosen == ["gamma 3.0-2", "beta 1.1-1", "alpha 1.0-1"])
        #expect(result.skipped.isEmpty && result.missing.isEmpty && result.warnings.isEmpty)
    }

    @Test func newestFittingArchitectureWins() throws {
        let repository = [
            Synthetic.rpm("tool", "2.0-1"),
            Synthetic.rpm("tool", "9.0-1", arch: "aarch64"),
            Synthetic.rpm("tool", "1:1.0-1"),
            Synthetic.rpm("tool", "2.0-10", arch: "noarch"),
        ]
        #expect(try resolve(["tool"], repository, installed: emptyRoot).chosen == ["tool 1:1.0-1"])
        let onlyForeign = [Synthetic.rpm("tool", "9.0-1", arch: "aarch64")]
        let missing = missing(["tool"], onlyForeign, installed: emptyRoot)
        #expect(missing.count == 1)
        #expect(missing.first?.reason.contains("tool-9.0-1.aarch64 (aarch64)") == true)
    }

    @Test func everyMissingDependencyIsListedWithWhoNeedsIt() throws {
        let repository = [
            Synthetic.rpm("alpha", "1.0-1", requires: ["beta", "missing-one", "missing-two >= 2"]),
            Synthetic.rpm("beta", "1.0-1", requires: ["missing-one"]),
        ]
        let found = missing(["alpha", "nonexistent"], repository, installed: emptyRoot)
        #expect(found.map(\.description) == [
            "missing-one, needed by beta-1.0-1.x86_64: not installed and no repository package provides it",
            "missing-one, needed by alpha-1.0-1.x86_64: not installed and no repository package provides it",
            "missing-two >= 2, needed by alpha-1.0-1.x86_64: not installed and no repository package provides it",
            "nonexistent, needed by the request: not installed and no repository package provides it",
        ])
        let error = PackageError.unresolved(found)
        #expect(error.description.hasPrefix("4 unresolved dependencies:\n  missing-one, needed by beta"))
    }

    @Test func unsatisfiableVersionIsExplained() throws {
        let repository = [
            Synthetic.rpm("alpha", "1.0-1", requires: ["beta >= 2.0"]),
            Synthetic.rpm("beta", "1.1-1"),
        ]
        let found = missing(["alpha"], repository, installed: emptyRoot)
        #expect(found.count == 1)
        #expect(found.first?.requirement.description == "beta >= 2.0")
        #expect(found.first?.reason == "the repository has beta-1.1-1.x86_64, not satisfying beta >= 2.0")
    }

    @Test func rpmlibRequirementsAreIgnored() throws {
        let repository = [Synthetic.rpm("alpha", "1.0-1", requires: ["rpmlib(PayloadIsZstd) <= 5.4.18-1",
                                                                     "rpmlib(CompressedFileNames) <= 3.0.4-1"])]
        #expect(try resolve(["alpha"], repository, installed: emptyRoot).chosen == ["alpha 1.0-1"])
    }

    @Test func fileRequiresAreMetByTheRootOrByAnOwningPackage() throws {
        let needsShell = Synthetic.rpm("alpha", "1.0-1", requires: ["/bin/sh", "/usr/bin/gawk"])
        let gawk = Synthetic.rpm("gawk", "5.1-1", files: ["/usr/bin/gawk", "/usr/bin/awk"])
        // usrmerged: /bin/sh is there because /usr/bin/sh is.
        let root = RPMRootView(paths: ["usr/bin/sh", "./usr/lib64/libc.so.6"])
        #expect(try resolve(["alpha"], [needsShell, gawk], installed: root).chosen == ["gawk 5.1-1", "alpha 1.0-1"])

        let found = missing(["alpha"], [needsShell, gawk], installed: RPMRootView(paths: ["/usr/bin/sh"], usrMerged: false))
        #expect(found.map(\.requirement.description) == ["/bin/sh"])
        #expect(found.first?.reason == "no such file in the target root and no repository package owns it")
    }

    @Test func sonameRequiresAreMetByLibrariesInTheRoot() throws {
        let repository = [Synthetic.rpm("alpha", "1.0-1", requires: [
            "libc.so.6()(64bit)", "libc.so.6(GLIBC_2.34)(64bit)", "libm.so.6()(64bit)", "rtld(GNU_HASH)",
        ])]
        let root = RPMRootView(paths: ["/usr/lib64/libc.so.6", "/lib64/libm.so.6", "/usr/lib64/ld-linux-x86-64.so.2"])
        #expect(try resolve(["alpha"], repository, installed: root).chosen == ["alpha 1.0-1"])

        let found = missing(["alpha"], repository, installed: RPMRootView(paths: ["/usr/lib64/libc.so.6"]))
        #expect(found.map(\.requirement.description) == ["libm.so.6()(64bit)", "rtld(GNU_HASH)"])
        #expect(found.first?.reason.contains("no libm.so.6 in the target root's library directories") == true)
    }

    @Test func sonameProvidedByARepositoryPackage() throws {
        let repository = [
            Synthetic.rpm("alpha", "1.0-1", requires: ["libfoo.so.1()(64bit)"]),
            Synthetic.rpm("libfoo", "1.0-1", provides: ["libfoo.so.1()(64bit)"]),
        ]
        #expect(try resolve(["alpha"], repository, installed: emptyRoot).chosen == ["libfoo 1.0-1", "alpha 1.0-1"])
    }

    @Test func installedProvidesSatisfyRequirements() throws {
        let root = RPMRootView(paths: [], packages: [
            InstalledPackage(name: "glibc", version: PackageVersion(parsing: "2.38-5", format: .rpm),
                             provides: [PackageProvide(name: "libc-tools", version: PackageVersion(parsing: "2.38", format: .rpm))]),
        ])
        let repository = [Synthetic.rpm("alpha", "1.0-1", requires: ["glibc >= 2.35", "libc-tools"])]
        #expect(try resolve(["alpha"], repository, installed: root).chosen == ["alpha 1.0-1"])
        // Too old, and the repository has nothing newer.
        let tooNew = [Synthetic.rpm("alpha", "1.0-1", requires: ["glibc >= 2.40"])]
        let found = missing(["alpha"], tooNew, installed: root)
        #expect(found.first?.reason == "installed glibc 2.38-5 does not satisfy it")
    }

    @Test func anOutdatedInstalledPackageIsReplacedWithAWarning() throws {
        let root = RPMRootView(paths: [], packages: [
            InstalledPackage(name: "beta", version: PackageVersion(parsing: "0.5-1", format: .rpm)),
        ])
        let repository = [
            Synthetic.rpm("alpha", "1.0-1", requires: ["beta >= 1.0"]),
            Synthetic.rpm("beta", "1.2-1"),
        ]
        let result = try resolve(["alpha"], repository, installed: root)
        #expect(result.chosen == ["beta 1.2-1", "alpha 1.0-1"])
        #expect(result.warnings == ["beta-1.2-1.x86_64 replaces the installed beta 0.5-1, which does not satisfy beta >= 1.0"])
    }

    @Test func alreadyInstalledRequestsAreSkipped() throws {
        let root = RPMRootView(paths: [], packages: [
            InstalledPackage(name: "gawk", version: PackageVersion(parsing: "5.1.1-3", format: .rpm),
                             provides: [PackageProvide(name: "awk")]),
        ])
        let repository = [Synthetic.rpm("gawk", "5.3-1"), Synthetic.rpm("parted", "3.6-1")]
        let result = try resolve(["gawk", "awk", "parted", "gawk"], repository, installed: root)
        #expect(result.chosen == ["parted 3.6-1"])
        #expect(result.skipped.map(\.description) == ["gawk: already present (5.1.1-3)",
                                                      "awk: already present (provided by gawk 5.1.1-3)"])
    }

    @Test func allowMissingTurnsErrorsIntoWarnings() throws {
        let repository = [
            Synthetic.rpm("alpha", "1.0-1", requires: ["beta", "ghost >= 1"]),
            Synthetic.rpm("beta", "1.0-1", requires: ["phantom"]),
        ]
        let result = try resolve(["alpha"], repository, installed: emptyRoot, allowMissing: true)
        #expect(result.chosen == ["beta 1.0-1", "alpha 1.0-1"])
        #expect(result.missing.map(\.requirement.description) == ["phantom", "ghost >= 1"])
        #expect(result.warnings.count == 2)
        #expect(result.warnings.first?.hasPrefix("unresolved dependency phantom, needed by beta-1.0-1.x86_64") == true)
    }

    @Test func cyclesTerminate() throws {
        let repository = [
            Synthetic.rpm("a", "1-1", requires: ["b"]),
            Synthetic.rpm("b", "1-1", requires: ["c"]),
            Synthetic.rpm("c", "1-1", requires: ["a"]),
        ]
        #expect(try resolve(["a"], repository, installed: emptyRoot).chosen == ["c 1-1", "b 1-1", "a 1-1"])
    }

    @Test func packagesOfTheOtherFormatAreNotUsed() throws {
        let repository = [Synthetic.rpm("alpha", "1.0-1", requires: ["beta"]), try Synthetic.deb("beta", "1.0-1")]
        let found = missing(["alpha"], repository, installed: emptyRoot)
        #expect(found.first?.reason == "not usable here: beta_1.0-1_amd64 (.deb)")
    }

    @Test func richOrDependencies() throws {
        let repository = [
            Synthetic.rpm("alpha", "1.0-1", requires: ["(mawk or gawk >= 5)", "(tar and gzip)"]),
            Synthetic.rpm("gawk", "5.1-1"), Synthetic.rpm("tar", "1.34-1"), Synthetic.rpm("gzip", "1.12-1"),
        ]
        #expect(try resolve(["alpha"], repository, installed: emptyRoot).chosen
            == ["gawk 5.1-1", "tar 1.34-1", "gzip 1.12-1", "alpha 1.0-1"])
        let unsupported = [Synthetic.rpm("alpha", "1.0-1", requires: ["(gawk if mawk)"])]
        #expect(missing(["alpha"], unsupported, installed: emptyRoot).first?.reason
            == "a boolean dependency this resolver does not evaluate")
    }
}
