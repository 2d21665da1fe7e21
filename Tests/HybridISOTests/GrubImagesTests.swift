import Foundation
@testable import HybridISO
import Testing

@Suite struct GrubImagesTests {
    let grub = GrubImages(buildID: "test-0123abcd")

    @Test func biosImageIsAnElToritoCoreImage() throws {
        try withScratchDirectory { directory in
            let path = directory + "/eltorito.img"
            try grub.buildBIOSImage(to: path)
            let image = try bytes(path)
            // Every module is embedded (no module directory on the ISO), so it is a few hundred KB at most.
            #expect((20_000...400_000).contains(image.count))
            // cdboot.img starts with a near call and leaves bytes 8..<64 for the El Torito boot info table.
            #expect(image[0] == 0xE8)
            #expect(image[8..<64].allSatisfy { $0 == 0 })
        }
    }

    @Test func uefiImageIsAnX8664PEWithTheEarlyConfig() throws {
        try withScratchDirectory { directory in
            let path = directory + "/BOOTX64.EFI"
            try grub.buildUEFIImage(to: path)
            let image = try bytes(path)
            #expect(image.starts(with: Array("MZ".utf8)))
            let peOffset = Int(image[0x3C]) | Int(image[0x3D]) << 8 | Int(image[0x3E]) << 16 | Int(image[0x3F]) << 24
            #expect(Array(image[peOffset..<peOffset + 4]) == [0x50, 0x45, 0, 0])
            let machine = UInt16(image[peOffset + 4]) | UInt16(image[peOffset + 5]) << 8
            #expect(machine == 0x8664)
            let optionalMagic = UInt16(image[peOffset + 24]) | UInt16(image[peOffset + 25]) << 8
            #expect(optionalMagic == 0x20B) // PE32+
            let subsystem = UInt16(image[peOffset + 24 + 68]) | UInt16(image[peOffset + 24 + 69]) << 8
            #expect(subsystem == 10) // EFI application
            let text = String(decoding: image, as: UTF8.self)
            #expect(text.contains("--file /.disk/emts-iso-test-0123abcd"))
        }
    }

    @Test func imagesAreReproducible() throws {
        try withScratchDirectory { directory in
            try grub.buildBIOSImage(to: directory + "/a.img")
            try grub.buildUEFIImage(to: directory + "/a.efi")
            sleep(1) // a timestamp, if one were embedded, would now differ
            try grub.buildBIOSImage(to: directory + "/b.img")
            try grub.buildUEFIImage(to: directory + "/b.efi")
            #expect(try bytes(directory + "/a.img") == bytes(directory + "/b.img"))
            #expect(try bytes(directory + "/a.efi") == bytes(directory + "/b.efi"))
            // Only the outputs are left: the scratch directories are gone.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
                == ["a.efi", "a.img", "b.efi", "b.img"])
        }
    }

    @Test func missingPlatformNamesThePackage() throws {
        var broken = grub
        broken.moduleRoot = "/nonexistent/grub"
        try withScratchDirectory { directory in
            #expect(throws: HybridISOError.grubPlatformMissing(platform: "i386-pc", directory: "/nonexistent/grub/i386-pc",
                                                               package: "grub-pc-bin")) {
                try broken.buildBIOSImage(to: directory + "/x.img")
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/x.img"))
        }
    }

    @Test func unknownModuleAndUnsafeBuildIDAreRefused() throws {
        try withScratchDirectory { directory in
            var unknown = grub
            unknown.uefiModules.append("no_such_module")
            #expect(throws: HybridISOError.self) { try unknown.buildUEFIImage(to: directory + "/x.efi") }
            let unsafe = GrubImages(buildID: "a b; reboot")
            #expect(throws: HybridISOError.self) { try unsafe.buildUEFIImage(to: directory + "/x.efi") }
        }
    }

    @Test func missingToolIsNamedWithItsPackage() {
        let tool = ExternalTool(name: "no-such-tool-emts", package: "some-package")
        #expect(throws: HybridISOError.toolMissing(tool: "no-such-tool-emts", package: "some-package")) {
            try tool.run([], step: "test")
        }
    }

    @Test func failingToolReportsStatusAndOutput() {
        #expect {
            try ExternalTool.grubMkimage.run(["-O", "no-such-format", "-o", "/dev/null"], step: "bad format")
        } throws: { error in
            guard case let HybridISOError.toolFailed(tool, step, status, output) = error else { return false }
            return tool == "grub-mkimage" && step == "bad format" && status != 0 && !output.isEmpty
        }
    }
}
