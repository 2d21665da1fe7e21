@testable import PackageKit
import Testing

@Suite struct PackageVersionTests {
    private func deb(_ a: String, _ b: String) -> Int {
        PackageVersion(parsing: a, format: .deb).compare(to: PackageVersion(parsing: b, format: .deb))
    }

    private func rpm(_ a: String, _ b: String) -> Int {
        PackageVersion(parsing: a, format: .rpm).compare(to: PackageVersion(parsing: b, format: .rpm))
    }

    @Test func parsesEpochVersionAndRelease() {
        let version = PackageVersion(parsing: "2:1.4-rc1-3ubuntu1", format: .deb)
        #expect(version.epoch == 2)
        #expect(version.version == "1.4-rc1")
        #expect(version.release == "3ubuntu1")
        #expect(version.description == "2:1.4-rc1-3ubuntu1")
        let plain = PackageVersion(parsing: "5.1.1", format: .rpm)
        #expect(plain.epoch == 0 && plain.version == "5.1.1" && plain.release == nil)
        // Not an epoch: the text stays the version.
        #expect(PackageVersion(parsing: "a:1", format: .deb).version == "a:1")
    }

    /// Orderings from dpkg's own test suite (lib/dpkg/t/t-version.c) and its documentation.
    @Test(arguments: [
        ("1.0~rc1", "1.0"), ("1.0", "1.0a"), ("2.0", "1:0.1"), ("1.0", "1.0.1"), ("1.99", "2.0"),
        ("1.0-1", "1.0-2"), ("1.0", "1.0-1"), ("1.0", "1.0+b1"), ("1.0~beta", "1.0~rc"), ("1.0~~", "1.0~~a"),
        ("1.0~~a", "1.0~"), ("1.0~", "1.0"), ("1.0", "1.0a"), ("0:1.0", "1:0.9"), ("1.2.3", "1.10"),
        ("1.0a", "1.0+"), ("1.0-1~bpo1", "1.0-1"), ("9", "10"), ("1.0.", "1.0.a"), ("a", "b"),
    ])
    func dpkgOrders(_ older: String, _ newer: String) {
        #expect(deb(older, newer) < 0, "\(older) < \(newer)")
        #expect(deb(newer, older) > 0, "\(newer) > \(older)")
    }

    @Test(arguments: [("1.0", "1.00"), ("0:1.0", "1.0"), ("1.0-0", "1.0"), ("01", "1"), ("0:0.0-0.0", "0:0.0-0.0")])
    func dpkgEquals(_ a: String, _ b: String) {
        #expect(deb(a, b) == 0, "\(a) == \(b)")
    }

    /// Orderings from rpm's test suite (tests/rpmvercmp.at).
    @Test(arguments: [
        ("1.0", "2.0"), ("2.0", "2.0.1"), ("2.0.1", "2.0.1a"), ("5.5p1", "5.5p2"), ("5.5p1", "5.5p10"),
        ("10xyz", "10.1xyz"), ("xyz10", "xyz10.1"), ("1.0", "1.0a"), ("10a2", "10b2"), ("1.0a", "1.0aa"),
        ("2a", "2.0"), ("1.0~rc1", "1.0"), ("1.0~rc1", "1.0~rc2"), ("1.0~rc1~git123", "1.0~rc1"),
        ("1.0", "1.0^"), ("1.0", "1.0^git1"), ("1.0^git1", "1.01"), ("1.0^20160101", "1.0.1"),
        ("1.0^20160101", "1.0^20160101^git1"), ("1.0~rc1", "1.0~rc1^git1"), ("1.0~rc1^git1", "1.0"),
        ("1.0^git1~pre", "1.0^git1"), ("a", "b"), ("a", "1"), ("1.1.α", "1.1.1"),
        // rpm's well-known surprise: a letter run after a separator is newer than the end of the string.
        ("6.0", "6.0.rc1"),
    ])
    func rpmOrders(_ older: String, _ newer: String) {
        #expect(rpm(older, newer) < 0, "\(older) < \(newer)")
        #expect(rpm(newer, older) > 0, "\(newer) > \(older)")
    }

    @Test(arguments: [("1.0", "1.0"), ("1.0010", "1.10"), ("a+", "a_"), ("+a", "_a"), ("1.0^", "1.0^"), ("1:1.0-1", "1:1.0-1")])
    func rpmEquals(_ a: String, _ b: String) {
        #expect(rpm(a, b) == 0, "\(a) == \(b)")
    }

    @Test func rpmComparesEpochThenVersionThenRelease() {
        #expect(rpm("1:1.0", "0:2.0") > 0)
        #expect(rpm("1:0.1", "2.0") > 0)
        #expect(rpm("1.0-1", "1.0-2") < 0)
        #expect(rpm("1.0-10", "1.0-9") > 0)
        // A version without a release matches any release, as rpm matches dependencies.
        #expect(rpm("1.0", "1.0-7") == 0)
    }

    @Test func constraintsHonourEachFormatsRules() {
        let rpmAtLeast = VersionConstraint(.greaterOrEqual, PackageVersion(parsing: "1.0", format: .rpm))
        #expect(rpmAtLeast.isSatisfied(by: PackageVersion(parsing: "1.0-3", format: .rpm)))
        #expect(!rpmAtLeast.isSatisfied(by: PackageVersion(parsing: "0.9-9", format: .rpm)))
        let rpmEqual = VersionConstraint(.equal, PackageVersion(parsing: "1.0", format: .rpm))
        #expect(rpmEqual.isSatisfied(by: PackageVersion(parsing: "1.0-3", format: .rpm)))

        let debEqual = VersionConstraint(.equal, PackageVersion(parsing: "1.0", format: .deb))
        #expect(!debEqual.isSatisfied(by: PackageVersion(parsing: "1.0-3", format: .deb)))
        let debBelow = VersionConstraint(.less, PackageVersion(parsing: "2.0", format: .deb))
        #expect(debBelow.isSatisfied(by: PackageVersion(parsing: "2.0~rc1", format: .deb)))
        #expect(!debBelow.isSatisfied(by: PackageVersion(parsing: "2.0", format: .deb)))
        #expect(debBelow.description == "<< 2.0")
        #expect(VersionConstraint(.greater, PackageVersion(parsing: "1", format: .rpm)).description == "> 1")
    }

    @Test func unversionedProvidesFollowEachFormat() {
        let versioned = Dependency(name: "awk", constraint: VersionConstraint(.greaterOrEqual, PackageVersion(parsing: "1", format: .rpm)))
        #expect(PackageProvide(name: "awk").satisfies(versioned, format: .rpm))
        var debian = versioned
        debian.constraint = VersionConstraint(.greaterOrEqual, PackageVersion(parsing: "1", format: .deb))
        #expect(!PackageProvide(name: "awk").satisfies(debian, format: .deb))
        #expect(PackageProvide(name: "awk", version: PackageVersion(parsing: "1.2", format: .deb)).satisfies(debian, format: .deb))
    }
}
