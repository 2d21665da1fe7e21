import ArchiveKit
import Foundation
@testable import PackageKit
import PackageFixtures
import Testing

/// fuzz/ (FuzzRPM): a cpio header inside an RPM's compressed payload declared a name of 2-3 GB, and libarchive,
/// which decompresses the payload itself, allocated that much before reading it. ArchiveKit now checks the
/// headers of the decompressed payload before libarchive's cpio reader parses them.
@Suite struct FuzzRPMRegression {
    /// A newc header declaring a `nameSize`-byte name (or, for a symlink, a `fileSize`-byte target).
    static func header(nameSize: UInt32, mode: UInt32 = 0o100644, fileSize: UInt32 = 0) -> [UInt8] {
        let fields: [UInt32] = [1, mode, 0, 0, 1, 0, fileSize, 0, 0, 0, 0, nameSize, 0]
        var bytes = Array("070701".utf8)
        for field in fields { bytes += Array(String(format: "%08X", field).utf8) }
        return bytes + Array("./x\0".utf8)
    }

    /// `cpio`, compressed as the package's payload, exactly `length` bytes long (the signature's SIZE covers the
    /// file): gzip pads with a header comment (FCOMMENT), an uncompressed payload with zeros.
    static func payload(_ cpio: [UInt8], compression: RPMFixture.Payload, length: Int) throws -> [UInt8] {
        guard compression == .gzip else {
            #expect(cpio.count <= length)
            return cpio + [UInt8](repeating: 0, count: length - cpio.count)
        }
        let sink = MemorySink()
        let gzip = try CompressingSink(into: sink, name: "payload", filter: .gzip)
        try cpio.withUnsafeBytes { try gzip.write($0) }
        try gzip.close()
        var bytes = sink.bytes
        #expect(bytes[3] == 0, "libarchive's gzip header carries no optional field")
        let comment = length - bytes.count - 1
        #expect(comment >= 0)
        bytes[3] = 0x10
        bytes.insert(contentsOf: [UInt8](repeating: 0x41, count: comment) + [0], at: 10)
        return bytes
    }

    /// Builds the alpha package with `compression`, swaps its payload for `cpio`, and returns the error reading it.
    static func error(payload cpio: [UInt8], compression: RPMFixture.Payload) throws -> PackageError {
        let scratch = try Scratch()
        var bytes = try scratch.read(try alphaFixture(payload: compression).build(in: scratch))
        let start = RPMLayout(bytes).payload
        bytes.replaceSubrange(start..., with: try payload(cpio, compression: compression, length: bytes.count - start))
        let path = try scratch.write("huge-name.rpm", bytes)
        return namedError(reading: path) { () throws(PackageError) in
            let package = try RPMPackage(path: path)
            #expect(package.payloadCompression == (compression == .gzip ? .gzip : .none))
            try drain(try package.payload())
        }
    }

    @Test("A cpio header in the payload declaring a name over PATH_MAX is refused, compressed or not",
          arguments: [RPMFixture.Payload.gzip, .none])
    func hugeNameSizeInPayload(compression: RPMFixture.Payload) throws {
        let error = try Self.error(payload: Self.header(nameSize: 0xB4FF_FFFE) + [UInt8](repeating: 0, count: 256),
                                   compression: compression)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.hasPrefix("payload: the header of cpio entry 0 (at byte 0 of the uncompressed archive)"), "\(reason)")
        #expect(reason.contains("declares a 3036676094-byte name"), "\(reason)")
    }

    @Test("A symlink in the payload declaring a target over PATH_MAX is refused")
    func hugeSymlinkTargetInPayload() throws {
        let error = try Self.error(payload: Self.header(nameSize: 4, mode: 0o120777, fileSize: 0x9000_0000)
            + [UInt8](repeating: 0x2F, count: 256), compression: .gzip)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("declares a 2415919104-byte target"), "\(reason)")
    }

    /// The inputs FuzzRPM saved (fuzz/regressions/FuzzRPM): each reached a 2.4-3.0 GB allocation.
    @Test("The saved FuzzRPM inputs end in the cpio header check",
          arguments: ["d497c46077608384c4ca3ea98228bc07b130027f", "fb66d55cb408c0b36160252c277625715e1258e8"])
    func savedInputs(hash: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("fuzz/regressions/FuzzRPM/oom-\(hash)").path
        let error = namedError(reading: path) { () throws(PackageError) in try drain(try RPMPackage(path: path).payload()) }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.hasPrefix("payload: the header of cpio entry"), "\(reason)")
    }
}
