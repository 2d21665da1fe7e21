@testable import PackageKit
import Testing

@Suite struct DebianResolutionTests {
    private let status = """
        Package: libc6
        Status: install ok installed
        Architecture: amd64
        Version: 2.36-9+deb12u4
        Provides: libc6-abi (= 2.36)

        Package: gawk
        Status: hold ok installed
        Architecture: amd64
        Version: 1:5.2.1-2
        Provides: awk

        Package: removed-tool
        Status: deinstall ok config-files
        Architecture: amd64
        Version: 1.0-1

        Package: debconf
        Status: install ok installed
        Architecture: all
        Version: 1.5.82
        Provides: debconf-2.0

        """

    @Test func statusViewListsInstalledPackagesOnly() throws {
        let view = try DpkgStatusView(statusText: status)
        #expect(view.packages.map(\.name) == ["libc6", "gawk", "debconf"])
        #expect(view.packages(providing: "awk").map(\.name) == ["gawk"])
        #expect(view.packages(providing: "removed-tool").isEmpty)
        #expect(view.packages[1].version == PackageVersion(epoch: 1, version: "5.2.1", release: "2", format: .deb))
        #expect(throws: PackageError.corrupt(path: "/var/lib/dpkg/status", reason: "line 1: a continuation line before any field")) {
            try DpkgStatusView(statusText: " oops\n")
        }
    }

    @Test func alreadyInstalledIsSkippedWithItsVersion() throws {
        let view = try DpkgStatusView(statusText: status)
        let repository = [
            try Synthetic.deb("gawk", "1:5.3.0-1"),
            try Synthetic.deb("lvm2", "2.03.16-2", depends: "libc6 (>= 2.34), dmsetup (>= 2:1.02)",
                              preDepends: "debconf (>= 0.5) | debconf-2.0"),
            try Synthetic.deb("dmsetup", "2:1.02.185-2", depends: "libc6 (>= 2.36)"),
        ]
        let result = try resolve(["gawk", "lvm2", "removed-tool"], repository + [try Synthetic.deb("removed-tool", "1.0-1")],
                                 installed: view)
        #expect(result.skipped.map(\.description) == ["gawk: already present (1:5.2.1-2)"])
        #expect(result.chosen == ["dmsetup 2:1.02.185-2", "lvm2 2.03.16-2", "removed-tool 1.0-1"])
    }

    @Test func alternativesPreferWhatIsThereThenWhatResolves() throws {
        let view = try DpkgStatusView(statusText: status)
        // The installed gawk provides awk: nothing to add.
        let user = try Synthetic.deb("user", "1", depends: "mawk | awk")
        let mawk = try Synthetic.deb("mawk", "1.3.4-1", depends: "libmissing1")
        #expect(try resolve(["user"], [user, mawk], installed: view).chosen == ["user 1"])

        // Nothing installed: mawk comes first but cannot resolve, so original-awk is taken.
        let bare = try DpkgStatusView(statusText: "")
        let other = try Synthetic.deb("original-awk", "2012-12-1", provides: "awk")
        #expect(try resolve(["user"], [user, mawk, other], installed: bare).chosen == ["original-awk 2012-12-1", "user 1"])

        // No alternative resolves: the first one tried is reported, with what it misses.
        let found = missing(["user"], [user, mawk], installed: bare)
        #expect(found.map(\.description) == ["libmissing1, needed by mawk_1.3.4-1_amd64: not installed and no repository package provides it"])
    }

    @Test func versionedDependenciesNeedVersionedProvides() throws {
        let bare = try DpkgStatusView(statusText: "")
        let repository = [
            try Synthetic.deb("user", "1", depends: "awk (>= 1)"),
            try Synthetic.deb("original-awk", "2012-12-1", provides: "awk"),
        ]
        let found = missing(["user"], repository, installed: bare)
        #expect(found.first?.reason == "the repository has original-awk_2012-12-1_amd64, not satisfying awk (>= 1)")
        let versioned = [repository[0], try Synthetic.deb("mawk", "1.3.4-1", provides: "awk (= 1.3.4)")]
        #expect(try resolve(["user"], versioned, installed: bare).chosen == ["mawk 1.3.4-1", "user 1"])
    }

    @Test func architectureQualifiersMatchByName() throws {
        let bare = try DpkgStatusView(statusText: "")
        let repository = [
            try Synthetic.deb("user", "1", depends: "python3:any (>= 3.11)"),
            try Synthetic.deb("python3", "3.11.2-1"),
            try Synthetic.deb("python3", "3.12.0-1", arch: "arm64"),
        ]
        #expect(try resolve(["user"], repository, installed: bare).chosen == ["python3 3.11.2-1", "user 1"])
    }

    @Test func strictBoundsAndTildes() throws {
        let bare = try DpkgStatusView(statusText: "")
        let repository = [
            try Synthetic.deb("user", "1", depends: "lib (<< 2.0)"),
            try Synthetic.deb("lib", "2.0-1"),
            try Synthetic.deb("lib", "2.0~rc1-1"),
        ]
        #expect(try resolve(["user"], repository, installed: bare).chosen == ["lib 2.0~rc1-1", "user 1"])
    }
}
