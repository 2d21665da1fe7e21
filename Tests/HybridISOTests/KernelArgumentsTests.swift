import Foundation
import HybridISO
import Testing

@Suite struct KernelArgumentsTests {
    static let base = "root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd"

    @Test func defaultLineIsRequiredThenConsolesThenExtras() throws {
        let arguments = try KernelArguments(extras: ["quiet", "systemd.log_level=debug loglevel=7"])
        #expect(arguments.commandLine == Self.base + " console=tty0 console=ttyS0,115200n8 quiet systemd.log_level=debug loglevel=7")
    }

    @Test(arguments: [
        "root=tmpfs", "rootflags=mode=0755,huge=within_size", "modules-load=nbd,loop", "modules-load=loop",
        "console=ttyS1,9600", "panic=-1",
    ])
    func compatibleExtrasAreAccepted(_ extra: String) throws {
        _ = try KernelArguments(extras: [extra])
    }

    @Test(arguments: [
        "root=/dev/sda", "rootflags=size=1G,mode=0755", "rootflags=mode=0700", "rootflags=nr_blocks=100,mode=0755",
        "rootflags=noatime", "resume=/dev/sda2", "module_blacklist=nbd", "modprobe.blacklist=loop,nbd",
        "emts.install=0", "emts.medium=x", "foo=\"a", "x=$y", "back\\slash", "tab\u{7}",
    ])
    func contradictingExtrasAreRejected(_ extra: String) {
        #expect(throws: HybridISOError.self) { try KernelArguments(extras: [extra]) }
    }

    @Test(arguments: ["root=tmpfs", "rootflags=mode=0755", "rd.skipfsck", "noresume", "modules-load=nbd"])
    func droppingARequiredArgumentIsRejected(_ dropped: String) {
        let line = Self.base.split(separator: " ").filter { $0 != dropped }.joined(separator: " ")
        #expect(throws: HybridISOError.self) { try KernelArguments.validate(commandLine: line) }
    }

    @Test func kargsAreaHasFixedLengthAndRoundTrips() throws {
        let area = KargsArea()
        let short = try KernelArguments()
        let long = try KernelArguments(extras: (0..<40).map { "extra.argument\($0)=1" })
        let shortBytes = try area.encode(short)
        let longBytes = try area.encode(long)
        #expect(shortBytes.count == 1024)
        #expect(longBytes.count == 1024)
        #expect(try area.decode(shortBytes) == short.commandLine)
        #expect(try area.decode(longBytes) == long.commandLine)
        let text = String(decoding: shortBytes, as: UTF8.self)
        #expect(text.contains("\nset emts_kargs=\"\(short.commandLine)\"\nexport emts_kargs\n#"))
        #expect(text.hasSuffix("#\n"))
    }

    @Test func kargsAreaOverflowIsAnError() throws {
        let area = KargsArea(size: 512)
        let exact = try KernelArguments(extras: [])
        let padding = area.capacity - exact.commandLine.utf8.count - 1
        let fits = try KernelArguments(extras: ["x=" + String(repeating: "a", count: padding - 2)])
        #expect(fits.commandLine.utf8.count == area.capacity)
        #expect(try area.encode(fits).count == 512)
        let tooLong = try KernelArguments(extras: ["x=" + String(repeating: "a", count: padding - 1)])
        #expect(throws: HybridISOError.kernelArgumentsTooLong(length: area.capacity + 1, capacity: area.capacity)) {
            try area.encode(tooLong)
        }
    }

    @Test func mapDescribesTheArea() throws {
        let arguments = try KernelArguments()
        let map = KargsArea().map(for: arguments)
        let json = try JSONSerialization.jsonObject(with: try map.jsonData()) as? [String: Any]
        #expect(json?["default"] as? String == arguments.commandLine)
        #expect(json?["size"] as? Int == 1024)
        let files = json?["files"] as? [[String: Any]]
        #expect(files?.first?["path"] as? String == "/boot/grub/kargs.cfg")
        #expect(files?.first?["offset"] == nil)
        let area = try map.areaBytes()
        #expect(area.count == KargsMap.areaSize && area.last == UInt8(ascii: "\n"))
        #expect(try JSONDecoder().decode(KargsMap.self, from: Data(area)) == map, "padding is JSON whitespace")
        let signed = KargsArea().map(for: arguments, signedImage: "/EFI/emts/emt-s.efi")
        #expect(try JSONDecoder().decode(KargsMap.self, from: Data(signed.areaBytes())).signedImage == "/EFI/emts/emt-s.efi")
    }
}
