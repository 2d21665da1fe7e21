@testable import BootTest
import Foundation
import Glibc
import Testing

@Suite struct MachineMonitorTests {
    @Test func argumentsOpenAListeningSocketAndTheStickHasAnID() throws {
        let monitor = MachineMonitor(socket: URL(fileURLWithPath: "/tmp/m.sock"))
        #expect(monitor.arguments == ["-chardev", "socket,id=emts-monitor,path=/tmp/m.sock,server=on,wait=off",
                                      "-mon", "chardev=emts-monitor,mode=readline"])
        let spec = MachineSpec(firmware: .bios, source: .medium(image: URL(fileURLWithPath: "/x.iso"), media: .usb,
                                                                 writable: false), extraArguments: monitor.arguments)
        let arguments = try spec.arguments(accelerator: .tcg, varsCopy: nil)
        #expect(arguments.contains { $0.hasPrefix("usb-storage,id=medium-device,") })
        #expect(arguments.suffix(4) == monitor.arguments)
    }

    @Test func sendsALineAndReadsTheAnswer() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mon-\(UUID().uuidString.prefix(8)).sock").path
        defer { unlink(path) }
        let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(server >= 0)
        defer { close(server) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            let bytes = Array(path.utf8)
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0 && listen(server, 1) == 0)
        // A tiny QEMU: banner and prompt, then the command echoed and a new prompt.
        let received = Received()
        let thread = Thread {
            let client = accept(server, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            _ = "QEMU 7.2 monitor\r\n(qemu) ".withCString { write(client, $0, strlen($0)) }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            received.set(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self))
            _ = "device_del medium-device\r\n(qemu) ".withCString { write(client, $0, strlen($0)) }
        }
        thread.start()
        let answer = try MachineMonitor(socket: URL(fileURLWithPath: path)).send("device_del medium-device", timeout: 10)
        #expect(received.value == "device_del medium-device\n")
        #expect(answer.hasSuffix("device_del medium-device\r\n(qemu) "))
    }

    @Test func aMissingSocketIsNamed() {
        let error = #expect(throws: BootTestError.self) {
            try MachineMonitor(socket: URL(fileURLWithPath: "/nonexistent/monitor.sock")).send("info status")
        }
        #expect("\(String(describing: error))".contains("/nonexistent/monitor.sock"))
    }
}

private final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func set(_ value: String) { lock.withLock { text = value } }
    var value: String { lock.withLock { text } }
}
