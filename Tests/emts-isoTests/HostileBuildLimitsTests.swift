@testable import emts_iso
import MicroOS
import Testing

/// `--max-unpacked-size`: the decompression-bomb guard's one knob on the command line.
@Suite struct HostileBuildLimitsTests {
    @Test("Sizes read as bytes, or with a binary K, M, G or T suffix",
          arguments: [("1048576", Int64(1 << 20)), ("512M", 512 << 20), ("8G", 8 << 30), ("2t", 2 << 40), ("64k", 64 << 10)])
    func sizes(text: String, bytes: Int64) {
        #expect(Build.byteCount(text) == bytes)
    }

    @Test("Anything else is not a size", arguments: ["", "G", "0", "-1G", "1.5G", "8GB", "ten", "99999999999T"])
    func notSizes(text: String) {
        #expect(Build.byteCount(text) == nil)
    }

    @Test("A bad size is refused by name before anything is read")
    func refusedByName() {
        let error = #expect(throws: (any Error).self) {
            try Build.parse(["--kernel", "k", "--initramfs", "i", "-o", "x.iso", "--no-installer", "--max-unpacked-size", "lots"])
        }
        let message = error.map { Build.message(for: $0) } ?? ""
        #expect(message.contains("--max-unpacked-size: \"lots\" is not a size"), "\(message)")
    }
}
