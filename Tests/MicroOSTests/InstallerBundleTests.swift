import ELFKit
import Foundation
@testable import MicroOS
import Testing

/// The install-os of this build, beside the test runner (SwiftPM builds every product for `swift test`).
private let builtInstaller = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("install-os").path

@Suite struct InstallerBundleTests {
    @Test func bundlesTheLibrariesBeyondGlibcAndEnablesTheUnit() throws {
        let bundle = try InstallerBundle(executable: builtInstaller)
        let names = Set(bundle.record.libraries.map(\.name))
        #expect(names.isSuperset(of: ["libarchive.so.13", "libparted.so.2", "libblkid.so.1"]))
        #expect(names.isDisjoint(with: ["libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2"]))
        #expect(bundle.record.requiredGlibc?.hasPrefix("GLIBC_2.") == true)
        #expect(!bundle.record.version.isEmpty)

        var request = EditRequest.standard
        try bundle.add(to: &request)
        let program = try #require(request.files.first { $0.destination == "/usr/lib/emts/install-os/install-os" })
        #expect(program.permissions == 0o755)
        guard case .patchedHostFile(let path, _, let patches) = program.source else {
            Issue.record("the executable is not patched: \(program.source)")
            return
        }
        #expect(path == builtInstaller)
        // The tag becomes DT_RPATH; the string becomes $ORIGIN padded with NULs.
        #expect(patches.count == 2)
        #expect(patches[0].bytes == [15, 0, 0, 0, 0, 0, 0, 0])
        #expect(patches[1].bytes.prefix(8) == Array("$ORIGIN\0".utf8)[...])
        for library in bundle.record.libraries {
            #expect(request.files.contains { $0.destination == "/usr/lib/emts/install-os/" + library.name })
        }
        #expect(request.symlinks.contains {
            $0.path == MicroOSFacts.installerBinary && $0.target == "../lib/emts/install-os/install-os"
        })
        #expect(request.enableUnits.contains(MicroOSFacts.installerUnit))
        let unit = try #require(request.files.first { $0.destination == InstallerBundle.unitPath })
        #expect(String(decoding: try unit.source.contents(), as: UTF8.self).contains("ExecStart=/usr/bin/install-os"))
        let version = try #require(request.files.first { $0.destination == MicroOSFacts.installerVersionRecord })
        #expect(String(decoding: try version.source.contents(), as: UTF8.self) == bundle.record.version + "\n")
        // The patched bytes as they will be written: the runpath reads $ORIGIN.
        let bytes = try program.source.contents()
        let offset = Int(patches[1].offset)
        #expect(Array(bytes[offset..<offset + 8]) == Array("$ORIGIN\0".utf8))
    }

    @Test func refusesWhatIsNotADynamicExecutableWithARunpath() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("not-install-os-\(getpid()).sh")
        try "#!/bin/sh\necho 1.0\n".write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        #expect { try InstallerBundle(executable: script.path) } throws: { error in
            "\(error)".contains(script.path) && "\(error)".contains("is not an ELF file")
        }
        #expect { try InstallerBundle(executable: "/nonexistent/install-os") } throws: { error in
            "\(error)".contains("/nonexistent/install-os") && "\(error)".contains("cannot be read")
        }
    }

    /// The µOS's glibc (its libc.so.6's newest version definition) must be at least what install-os needs:
    /// a µOS with this machine's libc passes for a bundle needing GLIBC_2.17 and is refused for GLIBC_2.99.
    @Test(arguments: ["usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib64/libc.so.6"])
    func theMicroOSGlibcMustBeNewEnough(libcPath: String) throws {
        let hostLibc = try #require(["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6"]
            .first { FileManager.default.fileExists(atPath: $0) })
        let libc = Array(try Data(contentsOf: URL(fileURLWithPath: hostLibc)))
        let provided = try #require(try ELFFile(path: hostLibc).newestGlibcDefinition)
        let time = MicroOSTree.time
        var tree = MicroOSTree.files()
        var directory = "."
        for component in libcPath.split(separator: "/").dropLast() {
            directory += "/" + component
            if !tree.contains(where: { $0.entry.path == directory }) { tree.append((.directory(directory, mtime: time), [])) }
        }
        tree.append((.file("./" + libcPath, size: Int64(libc.count), permissions: 0o755, mtime: time), libc))
        let scratch = try InitramfsScratch()
        let input = try MicroOSImage(rootfs: tree).write("in.img", in: scratch)
        let kernel = try RewriteSupport.kernel(in: scratch)
        let bundle = try InstallerBundle(executable: builtInstaller)

        func plan(requiring glibc: String) throws -> MicroOSPlan {
            var inputs = RewriteSupport.inputs(kernel: kernel, initramfs: input)
            var record = bundle.record
            record.requiredGlibc = glibc
            inputs.installer = record
            return try MicroOSBuild.plan(inputs)
        }
        #expect(try plan(requiring: "GLIBC_2.17").installer?.microOSGlibc == provided)
        #expect {
            try plan(requiring: "GLIBC_2.99")
        } throws: { error in
            "\(error)".contains("needs GLIBC_2.99, but the µOS's glibc (/\(libcPath)) provides only up to \(provided)")
        }
    }
}
