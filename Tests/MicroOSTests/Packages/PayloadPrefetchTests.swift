import Foundation
@testable import MicroOS
import PackageFixtures
import PackageKit
import Testing

/// The payload headers read while the µOS is scanned stand in for the plan's own read, exactly.
@Suite struct PayloadPrefetchTests {
    @Test("A plan with the payloads read ahead equals the plan that reads them itself")
    func sameAsReadingInThePlan() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try PackageInjectionTests.rpmRepository(packages)
        let input = try MicroOSImage(rootfs: MicroOSTree.files()).write("in.img", in: scratch)
        let request = EditRequest(packages: PackageRequest(directory: repository, names: ["tool"]))
        let planned = try MicroOSBuild.plan(MicroOSInputs(kernel: try RewriteSupport.kernel(in: scratch), initramfs: input,
                                                          request: request))
        let prefetch = try #require(PayloadPrefetch(directory: repository))
        defer { prefetch.stop() }
        let ahead = try EditPlan.resolve(request, against: planned.scan.index, prefetch: prefetch)
        let itself = try EditPlan.resolve(request, against: planned.scan.index)
        #expect(ahead == itself)
        #expect(planned.edits == itself)
        #expect(itself.packages.packages.map(\.name) == ["libdata", "libtool-extra", "tool"])
    }

    @Test("Headers read ahead: each package's entries; a file changed since is read again by the plan")
    func changedFileIsNotTaken() throws {
        let packages = try Scratch()
        let repository = try PackageInjectionTests.rpmRepository(packages)
        let prefetch = try #require(PayloadPrefetch(directory: repository))
        defer { prefetch.stop() }
        let files = try FileManager.default.contentsOfDirectory(atPath: repository).sorted().map { repository + "/" + $0 }
        #expect(files.count == 3)
        for file in files {
            let headers = try #require(prefetch.headers(for: file))
            let direct = PayloadHeaders.read(try PackageArchive.open(path: file))
            #expect(headers.failure == nil && direct.failure == nil)
            #expect(headers.entries == direct.entries)
            #expect(!headers.entries.isEmpty)
        }
        // Same size, new time: not the file that was read.
        let touched = files[0]
        let later = Date().addingTimeInterval(10)
        try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: touched)
        #expect(prefetch.headers(for: touched) == nil)
        #expect(prefetch.headers(for: repository + "/not-there.rpm") == nil)
    }

    @Test("A refused payload is refused the same way from the headers read ahead")
    func refusalIsKept() throws {
        let scratch = try InitramfsScratch()
        let packages = try Scratch()
        let repository = try HostilePackageInjectionTests.specialDeb([("/run/evil/fifo", ["/usr/bin/mkfifo", "-m", "600"])],
                                                                    packages: packages, numbers: [])
        let input = try MicroOSImage(rootfs: PackageInjectionTests.debianTree()).write("in.img", in: scratch)
        let request = EditRequest(packages: PackageRequest(directory: repository, names: ["evil-nodes"]))
        let inputs = MicroOSInputs(kernel: try RewriteSupport.kernel(in: scratch), initramfs: input, request: request)
        let file = repository + "/evil-nodes_1.0-1_amd64.deb"
        #expect(throws: PackageInjectionError.specialFile(package: file, entry: "/run/evil/fifo", kind: .fifo)) {
            try MicroOSBuild.plan(inputs)
        }
    }

    @Test("A directory with too many package files is not read ahead")
    func largeDirectoriesAreLeftAlone() throws {
        let packages = try Scratch()
        let directory = try packages.directory("mirror")
        for index in 0 ... PayloadPrefetch.maxFiles {
            _ = try packages.write("mirror/p\(index).deb", Array("not a package".utf8))
        }
        #expect(PayloadPrefetch(directory: directory) == nil)
        #expect(PayloadPrefetch(directory: try packages.directory("empty")) == nil)
    }
}
