import ArchiveKit
import Foundation
import Testing
import XZKit

@Suite struct KernelXZSinkTests {
    @Test func roundTripsAndUsesCRC32() throws {
        let payload = (0 ..< 500_000).map { UInt8(truncatingIfNeeded: $0 / 3) }
        let compressed = MemorySink()
        let sink = try KernelXZSink(into: compressed, name: "payload")
        for chunk in stride(from: 0, to: payload.count, by: 70_000) {
            try payload[chunk ..< min(chunk + 70_000, payload.count)].withUnsafeBytes { try sink.write($0) }
        }
        try sink.close()
        let bytes = compressed.bytes
        #expect(ArchiveFilter.detect(magic: bytes) == .xz)
        // Stream header flags (bytes 6-7): check type in the low nibble of byte 7; 0x01 = CRC32.
        #expect(bytes[6] == 0 && bytes[7] == 0x01)
        let reader = try ArchiveReader(bytes: bytes, name: "payload.xz", mode: .raw)
        _ = try reader.next()
        #expect(try reader.readAll(limit: 1 << 24) == payload)
    }

    @Test func xzToolAgrees() throws {
        let compressed = MemorySink()
        let sink = try KernelXZSink(into: compressed, name: "hello")
        try Array("hello, kernel\n".utf8).withUnsafeBytes { try sink.write($0) }
        try sink.close()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xzkit-\(UUID().uuidString).xz")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(compressed.bytes).write(to: file)
        let xz = Process()
        xz.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
        xz.arguments = ["--robot", "--list", file.path]
        let pipe = Pipe()
        xz.standardOutput = pipe
        try xz.run()
        let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        xz.waitUntilExit()
        #expect(xz.terminationStatus == 0)
        #expect(listing.contains("CRC32"))
    }
}
