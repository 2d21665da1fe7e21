import Foundation
@testable import HybridISO
import Testing

@Suite struct UnifiedKernelImageTests {
    @Test func stubLayoutIsReadFromItsHeaders() throws {
        let layout = try PEImageLayout(path: UnifiedKernelImage.debianStub)
        #expect(layout.alignment == 0x1000)
        #expect(layout.end % layout.alignment == 0 && layout.end >= 0x10000, "after the stub's own sections")
    }

    @Test(arguments: [[UInt8](), Array("MZ".utf8), Array("ELF\u{7F}".utf8) + [UInt8](repeating: 0, count: 200)])
    func nonPEInputIsNamed(bytes: [UInt8]) {
        let error = #expect(throws: HybridISOError.self) { try PEImageLayout(headers: bytes, path: "/x/stub.efi") }
        #expect("\(error.map { "\($0)" } ?? "")".hasPrefix("/x/stub.efi: reading PE headers"))
    }

    @Test func sectionsFollowTheStubAndTheTimestampIsTheEpoch() throws {
        try withScratchDirectory { dir in
            try Data(repeating: 0xAB, count: 5000).write(to: URL(fileURLWithPath: dir + "/kernel"))
            try Data("initrd".utf8).write(to: URL(fileURLWithPath: dir + "/initrd"))
            let output = dir + "/uki.efi"
            try UnifiedKernelImage(kernel: dir + "/kernel", initramfs: dir + "/initrd", commandLine: "root=tmpfs",
                                   osRelease: "ID=x\n", timestamp: 1_700_000_000).build(to: output)
            let sections = String(decoding: try ExternalTool(name: "objdump", package: "binutils")
                .run(["-h", output], step: "test").standardOutput, as: UTF8.self)
            let addresses = [".osrel", ".cmdline", ".linux", ".initrd"].map { name -> UInt64 in
                let line = sections.split(separator: "\n").first { $0.split(separator: " ").dropFirst().first.map(String.init) == name }
                let vma = line.flatMap { $0.split(separator: " ").dropFirst(3).first }.flatMap { UInt64($0, radix: 16) }
                return vma ?? 0
            }
            let stub = try PEImageLayout(path: UnifiedKernelImage.debianStub)
            #expect(addresses == [stub.end, stub.end + 0x1000, stub.end + 0x2000, stub.end + 0x2000 + 0x2000])
            let head = try bytes(output)
            let pe = Int(head[0x3C]) | Int(head[0x3D]) << 8
            let stamp = (0 ..< 4).reduce(UInt32(0)) { $0 | UInt32(head[pe + 8 + $1]) << (8 * $1) }
            #expect(stamp == 1_700_000_000)
        }
    }
}
