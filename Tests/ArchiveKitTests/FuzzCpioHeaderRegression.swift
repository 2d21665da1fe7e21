@testable import ArchiveKit
import Foundation
import Testing

/// fuzz/ (FuzzInitramfs, FuzzRPM): a 110-byte newc header declared a name, or a symlink target, of up to 4 GiB,
/// and libarchive's cpio reader allocated that much before reading it. `ArchiveReader` checks every cpio header
/// (`CpioHeaderGuard`) on the decompressed bytes, before libarchive's cpio reader parses it.
@Suite struct FuzzCpioHeaderRegression {
    /// A newc header with the given fields, then `name` (NUL, padding to 4), then `data` padded to 4.
    static func entry(nameSize: UInt32? = nil, mode: UInt32 = 0o100644, fileSize: UInt32? = nil, name: String = "x",
                      data: [UInt8] = [], magic: String = "070701") -> [UInt8] {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt32] = [1, mode, 0, 0, 1, 0, fileSize ?? UInt32(data.count), 0, 0, 0, 0,
                                nameSize ?? UInt32(nameBytes.count), 0]
        var bytes = Array(magic.utf8)
        for field in fields { bytes += Array(String(format: "%08X", field).utf8) }
        bytes += nameBytes
        while bytes.count % 4 != 0 { bytes.append(0) }
        bytes += data
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static let trailer = entry(mode: 0, name: "TRAILER!!!")

    static func compress(_ bytes: [UInt8], _ filter: ArchiveFilter) throws -> [UInt8] {
        guard filter != .none else { return bytes }
        let sink = MemorySink()
        let compressing = try CompressingSink(into: sink, name: "fixture", filter: filter)
        try bytes.withUnsafeBytes { try compressing.write($0) }
        try compressing.close()
        return sink.bytes
    }

    /// Reads every entry and its data; returns the paths, or throws what the reader threw.
    @discardableResult
    static func readAll(_ reader: ArchiveReader) throws -> [String] {
        var paths: [String] = []
        while let entry = try reader.next() {
            paths.append(entry.path)
            _ = try reader.readAll(limit: 1 << 20)
        }
        return paths
    }

    /// The refusal reading `bytes` ends with (nil, and an issue, when it reads or fails otherwise).
    static func refusal(_ bytes: [UInt8], name: String = "fuzz.cpio",
                        mode: ArchiveReader.Mode = .archive([.cpioNewc]), chunk: Int? = nil) -> CpioHeaderError? {
        do {
            let source: any ByteSource = chunk.map { ChunkedSource(bytes, chunk: $0) } ?? MemorySource(bytes)
            let paths = try readAll(try ArchiveReader(source: source, name: name, mode: mode))
            Issue.record("read without an error: \(paths)")
        } catch let error as CpioHeaderError {
            #expect(error.input == name)
            #expect(error.description.hasPrefix("\(name): "))
            return error
        } catch {
            Issue.record("expected a CpioHeaderError, got \(type(of: error)): \(error)")
        }
        return nil
    }

    /// Hands out at most `chunk` bytes per read: headers split across reads.
    final class ChunkedSource: ByteSource {
        let bytes: [UInt8]
        let chunk: Int
        var offset = 0
        init(_ bytes: [UInt8], chunk: Int) { (self.bytes, self.chunk) = (bytes, chunk) }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let count = min(chunk, buffer.count, bytes.count - offset)
            guard count > 0 else { return 0 }
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset ..< offset + count])) }
            offset += count
            return count
        }
    }

    /// A good entry, then one whose header declares a 0xCCCC_CCCE-byte name (FuzzInitramfs oom-0019865361...,
    /// oom-9787537f...: libarchive's malloc(3435973838)), in every compression libarchive decodes itself.
    @Test("A name longer than PATH_MAX is refused from its header, whatever the compression",
          arguments: [ArchiveFilter.none, .gzip, .xz, .zstd, .lz4, .bzip2])
    func oversizedName(filter: ArchiveFilter) throws {
        let cpio = Self.entry(name: "etc/hostname", data: Array("h\n".utf8)) + Self.entry(nameSize: 0xCCCC_CCCE)
            + [UInt8](repeating: 0x41, count: 8192) + Self.trailer
        let error = try #require(Self.refusal(try Self.compress(cpio, filter)))
        #expect(error.problem == .nameTooLong(0xCCCC_CCCE))
        #expect(error.entry == 1 && error.offset == 128, "\(error)")
        #expect(error.message.contains("declares a 3435973838-byte name"), "\(error)")
        #expect(error.message.contains("PATH_MAX"), "\(error)")
    }

    @Test("A symlink target longer than PATH_MAX is refused from its header, in the default formats too",
          arguments: [ArchiveFilter.none, .gzip])
    func oversizedSymlinkTarget(filter: ArchiveFilter) throws {
        let cpio = Self.entry(mode: 0o120777, fileSize: 0xA000_0000, name: "link") + [UInt8](repeating: 0x2F, count: 8192)
        let bytes = try Self.compress(cpio, filter)
        for mode in [ArchiveReader.Mode.archive([.cpioNewc]), .archive(ArchiveFormat.fileSystemFormats)] {
            let error = try #require(Self.refusal(bytes, mode: mode))
            #expect(error.problem == .symlinkTargetTooLong(0xA000_0000) && error.entry == 0 && error.offset == 0)
            #expect(error.message.contains("declares a 2684354560-byte target"), "\(error)")
        }
    }

    /// A header handed out a few bytes at a time is still collected and checked before its last byte leaves.
    @Test("A header split across reads is still checked", arguments: [1, 7, 109, 111, 113])
    func splitHeader(chunk: Int) throws {
        let cpio = Self.entry(name: "a", data: [1, 2, 3]) + Self.entry(nameSize: 0x9550_0000) + [UInt8](repeating: 0, count: 512)
        let error = try #require(Self.refusal(cpio, chunk: chunk))
        #expect(error.problem == .nameTooLong(0x9550_0000) && error.entry == 1 && error.offset == 116, "\(error)")
        // Split and compressed: the decompressed stream is checked, not the input's reads.
        let compressed = try Self.compress(cpio, .gzip)
        #expect(Self.refusal(compressed, chunk: chunk)?.problem == .nameTooLong(0x9550_0000))
    }

    /// FuzzInitramfs oom-0019865361...: the first header holds an "x" among its hex digits. libarchive skips
    /// ahead to the next "07070[12]" that its scan finds, whose name size the old check (which had not followed
    /// the skip) never saw. Damage is refused where it is, before libarchive searches.
    @Test("A header with a non-hex digit is refused where it is, before libarchive resynchronises")
    func damagedHeader() throws {
        var first = Self.entry(name: "kernel")
        first[107] = UInt8(ascii: "x")
        let cpio = first + Self.entry(nameSize: 0xCCCC_CCCE) + [UInt8](repeating: 0, count: 4096)
        let error = try #require(Self.refusal(try Self.compress(cpio, .xz)))
        #expect(error.entry == 0 && error.offset == 0, "\(error)")
        #expect(error.message.contains("byte 107 of the header is \"x\", not a hex digit"), "\(error)")
        guard case .damagedHeader = error.problem else { Issue.record("\(error)"); return }
    }

    /// Where an entry ends there is no header (its size lies): libarchive would search on for one.
    @Test("No header where the previous entry ends is refused")
    func missingHeader() throws {
        let cpio = Self.entry(fileSize: 2, name: "a", data: [1, 2, 3, 4, 5, 6, 7, 8]) + Self.entry(nameSize: 0xCCCC_CCCE)
            + [UInt8](repeating: 0, count: 512)
        let error = try #require(Self.refusal(cpio))
        #expect(error.entry == 1 && error.offset == 116, "\(error)")
        #expect(error.problem == .damagedHeader("it starts with \"\\x05\\x06\\x07\\x0807\", not a newc magic"), "\(error)")
    }

    /// odc, afio and binary cpio carry their own size fields (a binary symlink may declare a 4 GiB target);
    /// libarchive's cpio reader takes them all, the kernel and rpm none.
    @Test("Other cpio flavours are refused", arguments: [Array("070707".utf8), Array("070727".utf8), [0x71, 0xC7], [0xC7, 0x71]])
    func otherFlavours(magic: [UInt8]) throws {
        let error = try #require(Self.refusal(magic + [UInt8](repeating: 0x37, count: 200)))
        guard case .unsupportedVariant = error.problem else { Issue.record("\(error)"); return }
        #expect(error.message.contains("only newc"), "\(error)")
    }

    @Test("Names and symlink targets up to PATH_MAX, data of any size, and bytes after the trailer still read",
          arguments: [ArchiveFilter.none, .gzip, .zstd])
    func longestAccepted(filter: ArchiveFilter) throws {
        let name = String(repeating: "n", count: 4095)
        let target = Array(String(repeating: "t", count: 4096).utf8)
        let data = (0 ..< 70_000).map { UInt8(truncatingIfNeeded: $0) }
        let cpio = Self.entry(name: name, data: [7]) + Self.entry(mode: 0o120777, name: "link", data: target)
            + Self.entry(name: "big", data: data) + Self.entry(mode: 0o40755, name: "d", magic: "070702") + Self.trailer
            + Self.entry(nameSize: 0xFFFF_FFFF) // after the trailer: never parsed
        let reader = try ArchiveReader(source: ChunkedSource(try Self.compress(cpio, filter), chunk: 4099),
                                       name: "longest.cpio", mode: .archive([.cpioNewc]))
        #expect(try Self.readAll(reader) == [name, "link", "big", "d"])
        #expect(reader.filters == (filter == .none ? [] : [filter]))
        #expect(reader.format == .cpioNewc || reader.format == nil)
        #expect(reader.uncompressedBytesRead == Int64(cpio.count - 112))
        // Plain tar still reads in the default formats (it passes the check unchecked).
        let sink = MemorySink()
        let writer = try ArchiveWriter(sink: sink, name: "t", format: .tarPax, filter: filter)
        try writer.write(.file("f", size: 0, permissions: 0o644), data: [1, 2])
        try writer.close()
        #expect(try Self.readAll(try ArchiveReader(bytes: sink.bytes, name: "t.tar")) == ["f"])
    }

    /// Input already decompressed (the initramfs reader's segments): no filter is tried, and the check runs.
    @Test("uncompressedArchive checks the headers and tries no filter")
    func uncompressedMode() throws {
        let cpio = Self.entry(name: "a") + Self.entry(nameSize: 0x1_0000) + [UInt8](repeating: 0, count: 512)
        #expect(Self.refusal(cpio, mode: .uncompressedArchive([.cpioNewc]))?.problem == .nameTooLong(0x1_0000))
        let gzip = try Self.compress(Self.entry(name: "a") + Self.trailer, .gzip)
        #expect(throws: ArchiveError.self) {
            try Self.readAll(try ArchiveReader(bytes: gzip, name: "gz", mode: .uncompressedArchive([.cpioNewc])))
        }
    }

    /// The saved inputs, as FuzzInitramfs found them: plain cpio (the files are the initramfs), read as one archive.
    @Test("The saved FuzzInitramfs inputs that reached a 2.5-3.6 GB allocation end in the header check",
          arguments: ["0019865361233c0c680c4066df741b137d0e00c8", "9787537f214f127608961c94862af78aef14e47a",
                      "b2629c8d2a4a3ce1e3ae303cddffd87371c728ea", "d87f92ff22611bffe1f74a4fe65e4907a4bb5c1f",
                      "df6f1a55b36d837397ea2a5f8042ee2c898a874b"])
    func savedInputs(hash: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = root.appendingPathComponent("fuzz/regressions/FuzzInitramfs/oom-\(hash)")
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(Self.refusal(bytes, name: hash) != nil)
    }

    /// The guard on its own: the bytes before a refused header are handed out, then every read fails (nothing
    /// after it passes unchecked), whether the header lay in one read or was split across several.
    @Test("After a refusal the guard hands out nothing more", arguments: [nil, 1, 50])
    func guardStaysFailed(chunk: Int?) throws {
        let good = Self.entry(name: "a", data: [1, 2, 3])
        let cpio = good + Self.entry(nameSize: 0x2000) + [UInt8](repeating: 0, count: 4096)
        let guarded = CpioHeaderGuard(chunk.map { ChunkedSource(cpio, chunk: $0) } ?? MemorySource(cpio), input: "g")
        var buffer = [UInt8](repeating: 0, count: 8192)
        var handedOut = 0
        var refusals = 0
        for _ in 0 ..< 400 {
            do {
                handedOut += try buffer.withUnsafeMutableBytes { try guarded.read(into: $0) }
            } catch let error as CpioHeaderError {
                #expect(error.problem == .nameTooLong(0x2000) && error.offset == Int64(good.count))
                refusals += 1
            }
        }
        // The refused header's bytes do not all leave: at most 109 of them, when it was split across reads.
        #expect(handedOut >= good.count && handedOut < good.count + 110, "\(handedOut)")
        #expect(refusals == 400 - (handedOut + (chunk ?? 8192) - 1) / (chunk ?? 8192), "\(refusals)")
    }
}
