import Foundation
import MicroOS
import Testing

@Suite struct KernelImageTests {
    static let version = "6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"

    /// A minimal bzImage setup header: 4 setup sectors, boot protocol 2.15, the version string at 0x400.
    static func header(signature: String = "HdrS", versionPointer: UInt16 = 0x200, version: String? = version,
                       size: Int = 0x1400) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes[0x1F1] = 4
        bytes[0x1FE] = 0x55
        bytes[0x1FF] = 0xAA
        bytes.replaceSubrange(0x202 ..< 0x206, with: Array(signature.utf8))
        bytes[0x206] = 0x0F
        bytes[0x207] = 0x02
        bytes[0x20E] = UInt8(versionPointer & 0xFF)
        bytes[0x20F] = UInt8(versionPointer >> 8)
        if let version {
            let start = Int(versionPointer) + 0x200
            bytes.replaceSubrange(start ..< start + version.utf8.count, with: Array(version.utf8))
        }
        return bytes
    }

    @Test func readsTheSyntheticHeader() throws {
        let scratch = try InitramfsScratch()
        let path = try scratch.write("vmlinuz", Self.header())
        let info = try KernelImage.inspect(path: path)
        #expect(info == KernelInfo(version: Self.version, release: "6.1.0-18-amd64", bootProtocol: 0x020F, fileSize: 0x1400))
        #expect(info.bootProtocolString == "2.15")
        let json = try JSONEncoder().encode(info)
        #expect(try JSONDecoder().decode(KernelInfo.self, from: json) == info)
    }

    @Test func rejectsWhatIsNotABzImage() throws {
        let scratch = try InitramfsScratch()
        let cases: [(String, [UInt8], String)] = [
            ("elf", [0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 4096), "not a bzImage: no HdrS signature at 0x202"),
            ("tiny", Array("tiny".utf8), "not a bzImage: no HdrS signature at 0x202"),
            ("signature", Self.header(signature: "HdrX"), "not a bzImage: no HdrS signature at 0x202"),
            ("pointer", Self.header(versionPointer: 0x7000, version: nil), "points outside the setup code"),
            ("unterminated", Self.header(versionPointer: 0x200, version: String(repeating: "x", count: 0x800)),
             "has no NUL"),
        ]
        for (name, bytes, message) in cases {
            let path = try scratch.write(name, bytes)
            let error = #expect(throws: KernelImageError.self) { try KernelImage.inspect(path: path) }
            #expect(error?.path == path)
            #expect(error?.description.hasPrefix(path + ": ") == true)
            #expect(error?.message.contains(message) == true, "\(name): \(String(describing: error))")
        }
        let missing = #expect(throws: KernelImageError.self) { try KernelImage.inspect(path: "/nonexistent/vmlinuz") }
        #expect(missing?.description.hasPrefix("/nonexistent/vmlinuz: ") == true)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["EMTS_TESTBED"] != nil))
    func readsTheTestBedKernel() throws {
        let dir = try #require(ProcessInfo.processInfo.environment["EMTS_TESTBED"])
        let info = try KernelImage.inspect(path: dir + "/vmlinuz")
        let release = try String(contentsOfFile: dir + "/kernel-version", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(info.release == release)
        #expect(info.bootProtocol >= 0x020C)
    }
}
