import Foundation
import Glibc

/// QEMU's human monitor on a UNIX socket, for tests that act on a running machine (pull a USB stick out,
/// as a field engineer might mid-install). Add `arguments` to the machine's `extraArguments`, then `send`
/// commands while it runs.
public struct MachineMonitor: Sendable {
    /// The socket QEMU listens on.
    public let socket: URL

    /// The id QEMU gives the medium's device (`device_del medium-device` removes a USB stick).
    public static let mediumDevice = "medium-device"

    public init(socket: URL) {
        self.socket = socket
    }

    /// QEMU's arguments for a monitor on `socket` (listening; QEMU does not wait for a client).
    public var arguments: [String] {
        ["-chardev", "socket,id=emts-monitor,path=\(socket.path),server=on,wait=off",
         "-mon", "chardev=emts-monitor,mode=readline"]
    }

    /// Sends one monitor command and returns what QEMU answered within `timeout` seconds (the banner and
    /// prompt included).
    /// - Throws: `BootTestError.qemu` when the socket cannot be reached.
    @discardableResult
    public func send(_ command: String, timeout: Double = 5) throws -> String {
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BootTestError.qemu("monitor: cannot create a socket") }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socket.path.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw BootTestError.qemu("monitor: socket path \(socket.path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path)
            buffer[path.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw BootTestError.qemu("monitor: cannot connect to \(socket.path): \(String(cString: strerror(errno)))")
        }
        var timeval = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
        let line = Array((command + "\n").utf8)
        guard line.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == line.count else {
            throw BootTestError.qemu("monitor: cannot send \"\(command)\": \(String(cString: strerror(errno)))")
        }
        // Read until QEMU has answered (a second prompt) or the time is up.
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                answer += buffer[0 ..< count]
                if String(decoding: answer, as: UTF8.self).components(separatedBy: "(qemu)").count > 2 { break }
            } else if count == 0 {
                break
            }
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
