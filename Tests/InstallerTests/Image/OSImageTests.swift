import Foundation
@testable import Installer
import Testing

@Suite struct OSImageTests {
    private func images(_ directory: URL) throws -> String {
        let images = directory.appendingPathComponent("images").path
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        return images
    }

    @Test func findsTheOnlyImageWithItsChecksum() throws {
        try withScratchDirectory { directory in
            let raw = directory.appendingPathComponent("emt.raw").path
            try makeRawImage(raw)
            let images = try images(directory)
            let path = try compressImage(raw, name: "emt-s-3.0", compression: .zstd, into: images)
            try writeText("notes\n", to: images + "/README")
            let image = try OSImage.find(in: images, named: nil)
            #expect(image.name == "emt-s-3.0.raw.zst")
            #expect(image.path == path)
            #expect(image.compression == .zstd)
            #expect(image.expectedSHA256 == (try sha256(of: path)))
            #expect(image.checksumPath == path + ".sha256")
            #expect(image.compressedBytes == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value)
            #expect(try OSImage.find(in: images, named: "emt-s-3.0").name == "emt-s-3.0.raw.zst")
            #expect(try OSImage.find(in: images, named: "emt-s-3.0.raw.zst").name == "emt-s-3.0.raw.zst")
        }
    }

    @Test func choosingAmongImages() throws {
        try withScratchDirectory { directory in
            let raw = directory.appendingPathComponent("emt.raw").path
            try makeRawImage(raw)
            let images = try images(directory)
            #expect(throws: BootMediumError.noImage(directory: images)) { try OSImage.find(in: images, named: nil) }
            try compressImage(raw, name: "a", compression: .gzip, into: images)
            try compressImage(raw, name: "b", compression: .xz, into: images)
            #expect(throws: BootMediumError.severalImages(directory: images, names: ["a.raw.gz", "b.raw.xz"])) {
                try OSImage.find(in: images, named: nil)
            }
            #expect(try OSImage.find(in: images, named: "b").compression == .xz)
            #expect(throws: BootMediumError.imageNotFound(directory: images, name: "c", available: ["a.raw.gz", "b.raw.xz"])) {
                try OSImage.find(in: images, named: "c")
            }
        }
    }

    @Test func checksumFileMustBeThereAndWellFormed() throws {
        try withScratchDirectory { directory in
            let raw = directory.appendingPathComponent("emt.raw").path
            try makeRawImage(raw)
            let images = try images(directory)
            let path = try compressImage(raw, name: "emt", compression: .gzip, into: images)
            let digest = try sha256(of: path)

            try writeText("\(digest) *emt.raw.gz\n", to: path + ".sha256")
            #expect(try OSImage.find(in: images, named: nil).expectedSHA256 == digest)
            try writeText("\(digest.uppercased())\n", to: path + ".sha256")
            #expect(try OSImage.find(in: images, named: nil).expectedSHA256 == digest, "a bare digest, any case")

            try writeText("\(digest)  other.raw.gz\n", to: path + ".sha256")
            #expect(throws: BootMediumError.checksumMalformed(path: path + ".sha256", reason: "no sha256 line for emt.raw.gz")) {
                try OSImage.find(in: images, named: nil)
            }
            try writeText("md5 1234  emt.raw.gz\n", to: path + ".sha256")
            #expect(throws: BootMediumError.self) { try OSImage.find(in: images, named: nil) }

            try FileManager.default.removeItem(atPath: path + ".sha256")
            #expect(throws: BootMediumError.checksumMissing(path: path + ".sha256", image: "emt.raw.gz")) {
                try OSImage.find(in: images, named: nil)
            }
            // The other spelling, without the .raw.gz ending, is accepted.
            try writeText("\(digest)  emt.raw.gz\n", to: images + "/emt.sha256")
            #expect(try OSImage.find(in: images, named: nil).checksumPath == images + "/emt.sha256")
        }
    }

    @Test func contentMustMatchTheName() throws {
        try withScratchDirectory { directory in
            let raw = directory.appendingPathComponent("emt.raw").path
            try makeRawImage(raw)
            let images = try images(directory)
            let path = try compressImage(raw, name: "emt", compression: .xz, into: images)
            try FileManager.default.moveItem(atPath: path, toPath: images + "/emt.raw.gz")
            try FileManager.default.removeItem(atPath: path + ".sha256")
            try writeText("\(try sha256(of: images + "/emt.raw.gz"))  emt.raw.gz\n", to: images + "/emt.raw.gz.sha256")
            #expect(throws: BootMediumError.image(.compressionMismatch(path: images + "/emt.raw.gz", expected: .gzip, found: "xz"))) {
                try OSImage.find(in: images, named: nil)
            }
            #expect(InstallError.medium(.image(.empty(path: "x"))).exitCode == .verificationFailed)
        }
    }
}
