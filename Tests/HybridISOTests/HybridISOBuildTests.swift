import Foundation
@testable import HybridISO
import ISOKit
import Testing

/// The ISO assembly on stand-in boot files (no boot here: EndToEndTests boots the real thing).
@Suite struct HybridISOBuildTests {
    func inputs(in dir: String, osImage: String?) throws -> HybridISOInputs {
        try Data("kernel".utf8).write(to: URL(fileURLWithPath: dir + "/vmlinuz"))
        try Data("initramfs".utf8).write(to: URL(fileURLWithPath: dir + "/initramfs.img"))
        return HybridISOInputs(kernel: dir + "/vmlinuz", initramfs: dir + "/initramfs.img",
                               arguments: try KernelArguments(), osImage: osImage, buildID: "0123456789ab",
                               epoch: 1_700_000_000)
    }

    @Test func carriesTheOSImageWithItsDigest() throws {
        try withScratchDirectory { dir in
            let payload = [0x1F, 0x8B, 0x08, 0x00] + (0 ..< 100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let osImage = dir + "/emt-s.raw.gz"
            try Data(payload).write(to: URL(fileURLWithPath: osImage))
            let report = try HybridISOBuild.write(try inputs(in: dir, osImage: osImage), to: dir + "/out.iso")
            let expected = try OSImagePayload.inspect(osImage).sha256
            #expect(report.osImage == OSImagePayload(path: "/images/emt-s.raw.gz", bytes: UInt64(payload.count),
                                                     sha256: expected))
            let iso = try ISOImage(reading: dir + "/out.iso")
            #expect(try iso.contents(of: "/images/emt-s.raw.gz") == payload)
            #expect(String(decoding: try iso.contents(of: "/images/emt-s.raw.gz.sha256"), as: UTF8.self)
                    == "\(expected)  emt-s.raw.gz\n")
            #expect(try iso.contents(of: KargsArea.path).count == KargsArea.defaultSize)
            #expect(try iso.contents(of: "/.disk/emts-iso-0123456789ab").isEmpty)
        }
    }

    @Test(arguments: [("emt-s.img", [UInt8](arrayLiteral: 0x1F, 0x8B, 0, 0)), ("emt-s.raw.zst", [0x1F, 0x8B, 0, 0]),
                      ("emt-s.raw.gz", [])])
    func refusesWhatIsNotACompressedRawImage(name: String, content: [UInt8]) throws {
        try withScratchDirectory { dir in
            let osImage = dir + "/" + name
            try Data(content).write(to: URL(fileURLWithPath: osImage))
            let error = #expect(throws: HybridISOError.self) {
                try HybridISOBuild.write(try inputs(in: dir, osImage: osImage), to: dir + "/out.iso")
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains(osImage))
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("out") || $0.hasPrefix(".out") }
            #expect(left.isEmpty, "nothing written: \(left)")
        }
    }
}
