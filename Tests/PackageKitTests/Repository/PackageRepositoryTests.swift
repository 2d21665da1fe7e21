import Foundation
@testable import PackageKit
import PackageFixtures
import Testing

@Suite struct PackageRepositoryTests {
    @Test func resolvesAChainOfRealRPMs() throws {
        let scratch = try Scratch()
        let repository = try scratch.directory("repo")
        try alphaFixture(payload: .zstd).build(in: scratch, into: repository)
        try RPMFixture(name: "beta", version: "0.9", requires: ["gamma-lib >= 3"]).build(in: scratch, into: repository)
        try RPMFixture(name: "beta", version: "1.1", requires: ["gamma-lib >= 3"], payload: .xz).build(in: scratch, into: repository)
        try RPMFixture(name: "gamma", version: "3.0", arch: "noarch", provides: ["gamma-lib = 3"]).build(in: scratch, into: repository)
        try scratch.write("repo/README.txt", Array("not a package\n".utf8))
        try scratch.directory("repo/subdirectory.rpm")

        let packages = try PackageRepository(directory: repository)
        #expect(packages.packages.map(\.description) == [
            "alpha-1.2.3-4.x86_64", "beta-0.9-1.x86_64", "beta-1.1-1.x86_64", "gamma-3.0-1.noarch",
        ])
        #expect(packages.packages(named: "beta").map(\.metadata.version.description) == ["1.1-1", "0.9-1"])

        let root = RPMRootView(paths: ["/usr/bin/sh", "/usr/lib64/libc.so.6"])
        let result = try DependencyResolver(repository: packages, installed: root).resolve(["alpha"])
        #expect(result.chosen == ["gamma 3.0-1", "beta 1.1-1", "alpha 1.2.3-4"])

        // What the µOS editor will do next: stream each chosen package's files.
        var paths: [String] = []
        for package in result.packages {
            let reader = try package.payload()
            while let entry = try reader.next() { paths.append(entry.path) }
        }
        #expect(paths.contains("/usr/share/gamma/README") && paths.contains("/usr/sbin/alpha-su"))

        let found = missing(["alpha"], packages.packages, installed: RPMRootView(paths: []))
        #expect(found.map { "\($0.requirement) <- \($0.neededBy)" } == [
            "/bin/sh <- alpha-1.2.3-4.x86_64", "libc.so.6()(64bit) <- alpha-1.2.3-4.x86_64",
        ])
    }

    @Test func resolvesRealDebsAgainstADpkgStatus() throws {
        let scratch = try Scratch()
        let repository = try scratch.directory("repo")
        try DebFixture(name: "tool", version: "2.0-1", fields: [("Depends", "libc6 (>= 2.36), libtool-helper (>= 1.0) | other-helper")])
            .build(in: scratch, into: repository)
        try DebFixture(name: "libtool-helper", version: "1.2-1", architecture: "all", compression: .zstd)
            .build(in: scratch, into: repository)
        let status = try DpkgStatusView(statusText: "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n")
        let result = try DependencyResolver(repository: PackageRepository(directory: repository), installed: status)
            .resolve(["tool", "libc6"])
        #expect(result.chosen == ["libtool-helper 1.2-1", "tool 2.0-1"])
        #expect(result.skipped.map(\.description) == ["libc6: already present (2.36-9)"])
    }

    @Test func aCorruptPackageIsNamed() throws {
        let scratch = try Scratch()
        let repository = try scratch.directory("repo")
        try DebFixture(name: "good").build(in: scratch, into: repository)
        let broken = try scratch.write("repo/broken.rpm", Array("this is not an rpm".utf8))
        #expect(throws: PackageError.notAPackage(path: broken, reason: "RPM lead magic is 74 68 69 73, expected ed ab ee db")) {
            try PackageRepository(directory: repository)
        }
        try FileManager.default.removeItem(atPath: broken)

        let good = try scratch.read(repository + "/good_1.0-1_amd64.deb")
        let cut = try scratch.write("repo/cut_1.0-1_amd64.deb", Array(good.prefix(good.count - 30)))
        #expect {
            try PackageRepository(directory: repository)
        } throws: { error in
            guard let error = error as? PackageError, case .truncated(let path, _) = error else { return false }
            return path == cut
        }
    }

    @Test func aMissingDirectoryIsNamed() throws {
        let scratch = try Scratch()
        let directory = scratch.path("nowhere")
        #expect(throws: PackageError.repositoryUnreadable(directory: directory, reason: "No such file or directory")) {
            try PackageRepository(directory: directory)
        }
    }
}
