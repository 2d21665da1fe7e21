import ArchiveKit
import Foundation
@testable import MicroOS
import Testing

/// Crafted initramfs images: decompression bombs (stopped by `UnpackLimits`), newc headers that lie about
/// their name and data sizes. Each is refused by the scan, the rewrite and the plan with an error naming the
/// input and the problem, and nothing is left in the output directory.
@Suite struct HostileInitramfsTests {
    typealias File = InitramfsFixture.File

    /// Runs scan, rewrite and plan on `initramfs` with `options` and returns the error each gave (recording an
    /// issue when one accepts it), after checking the output directory stayed empty and the error names the input.
    func refusals(_ initramfs: String, options: RewriteOptions = RewriteOptions(), in scratch: InitramfsScratch,
                  sourceLocation: SourceLocation = #_sourceLocation) throws -> [any Error] {
        let kernel = try RewriteSupport.kernel(in: scratch)
        let out = try RewriteSupport.outputDirectory(scratch, "out-\(UUID().uuidString.prefix(8))")
        let before = RewriteSupport.contents(scratch.url.path)
        let operations: [(String, () throws -> Void)] = [
            ("scan", { _ = try MicroOSRewriter.scan(initramfs: initramfs, options: options) }),
            ("rewrite", {
                _ = try MicroOSRewriter.rewrite(initramfs: initramfs, plan: .empty, output: "\(out)/initramfs.img",
                                               options: options)
            }),
            ("plan", {
                _ = try MicroOSBuild.plan(RewriteSupport.inputs(kernel: kernel, initramfs: initramfs, options: options))
            }),
        ]
        var errors: [any Error] = []
        for (name, operation) in operations {
            do {
                try operation()
                Issue.record("\(name): \(initramfs) was accepted", sourceLocation: sourceLocation)
            } catch {
                #expect("\(error)".hasPrefix(initramfs), "\(name): \"\(error)\" does not name the input",
                        sourceLocation: sourceLocation)
                errors.append(error)
            }
            #expect(RewriteSupport.contents(out).isEmpty, "\(name) left \(RewriteSupport.contents(out)) in \(out)",
                    sourceLocation: sourceLocation)
        }
        #expect(RewriteSupport.contents(scratch.url.path) == before, "files appeared beside the output directory",
                sourceLocation: sourceLocation)
        return errors
    }

    /// The good tree with `extra` after its last entry.
    static func tree(adding extra: [File]) -> [File] { MicroOSTree.files() + extra }

    // MARK: Decompression bombs

    @Test("Nested archive bomb: 64 MiB of zeros in a few KB of gzip stops at the unpacked-size limit, naming it")
    func nestedBomb() throws {
        let scratch = try InitramfsScratch()
        let zeros = InitramfsFixture.zeros(64 << 20)
        let image = try MicroOSImage(rootfs: Self.tree(adding: [(.file("./var/bomb", size: 0), zeros)]))
            .write("bomb.img", in: scratch)
        #expect(try RewriteSupport.bytes(image).count < 1 << 20, "the fixture is not a bomb")
        var options = RewriteOptions()
        options.limits = .total(16 << 20)
        options.limits.entryBytes = 128 << 20
        for error in try refusals(image, options: options, in: scratch) {
            guard case .unpackLimit(let input, let message)? = error as? MicroOSError else {
                Issue.record("expected MicroOSError.unpackLimit, got \(error)")
                continue
            }
            #expect(input == "\(image):/rootfs.tar.gz")
            #expect(message.contains("\(16 << 20)-byte limit on unpacked size"), "\(message)")
            #expect(message.contains("./var/bomb"), "\(message)")
        }
    }

    @Test("One nested entry over the per-entry limit is refused at its header, before its data is read")
    func nestedEntryOverLimit() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: Self.tree(adding: [(.file("./var/big", size: 0), InitramfsFixture.zeros(3 << 20))]))
            .write("big.img", in: scratch)
        var options = RewriteOptions()
        options.limits.entryBytes = 2 << 20
        for error in try refusals(image, options: options, in: scratch) {
            #expect("\(error)" == "\(image):/rootfs.tar.gz: ./var/big declares \(3 << 20) bytes, more than the "
                        + "\(2 << 20)-byte limit for one entry", "\(error)")
        }
    }

    @Test("A nested tar header claiming a 1 TiB file is refused by the default limits, without decompressing anything")
    func nestedHeaderClaimingATerabyte() throws {
        let scratch = try InitramfsScratch()
        var tar = try InitramfsFixture.tar(Self.tree(adding: [(.file("./var/huge", size: 0), [])]), filter: .none)
        try Self.setTarSize(1 << 40, of: "./var/huge", in: &tar)
        // Only the header: the archive ends (end-of-archive blocks) where the terabyte should start.
        let gzip = try InitramfsFixture.compress(tar, with: .gzip, in: scratch)
        let image = try MicroOSImage(rootfs: [], nestedBytes: gzip).write("huge.img", in: scratch)
        for error in try refusals(image, in: scratch) {
            #expect("\(error)" == "\(image):/rootfs.tar.gz: ./var/huge declares \(1 << 40) bytes, more than the "
                        + "\(UnpackLimits.standard.entryBytes)-byte limit for one entry", "\(error)")
        }
    }

    @Test("A nested archive of more entries than the limit is refused, naming the limit")
    func tooManyEntries() throws {
        let scratch = try InitramfsScratch()
        let image = try MicroOSImage(rootfs: MicroOSTree.files()).write("uos.img", in: scratch)
        var options = RewriteOptions()
        options.limits.entries = 20
        for error in try refusals(image, options: options, in: scratch) {
            #expect("\(error)".contains("more than 20 entries"), "\(error)")
            #expect("\(error)".hasPrefix("\(image):/rootfs.tar.gz: "), "\(error)")
        }
    }

    @Test("Outer bomb: a gzip segment inflating to 64 MiB of zero padding stops at the limit, naming the segment")
    func outerPaddingBomb() throws {
        let scratch = try InitramfsScratch()
        var image = MicroOSImage(rootfs: MicroOSTree.files())
        image.outerFilter = .none
        let cpio = try image.bytes() + InitramfsFixture.zeros(64 << 20)
        let path = try scratch.write("padding-bomb.img", try InitramfsFixture.compress(cpio, with: .gzip, in: scratch))
        #expect(try RewriteSupport.bytes(path).count < 1 << 20, "the fixture is not a bomb")
        var options = RewriteOptions()
        options.limits = .total(16 << 20)
        for error in try refusals(path, options: options, in: scratch) {
            let error = try #require(error as? InitramfsError, "\(error)")
            #expect(error.kind == .unpackLimit && error.path == path && error.segment == 0, "\(error)")
            #expect(error.message.contains("\(16 << 20)-byte limit on unpacked size"), "\(error)")
        }
        // The reader alone stops too.
        let reader = try InitramfsReader(path: path, unpackLimit: 16 << 20)
        #expect(throws: InitramfsError.self) { while try reader.next() != nil {} }
    }

    @Test("The standard limits are on by default and survive a manifest written before they existed")
    func defaultLimits() throws {
        #expect(RewriteOptions().limits == .standard)
        #expect(UnpackLimits.standard.totalBytes == 8 << 30 && UnpackLimits.standard.entryBytes == 2 << 30)
        let old = #"{"nestedName": "rootfs.tar.gz", "outerCompression": "gzip", "rootfs": {"nested": {}}}"#
        #expect(try JSONDecoder().decode(RewriteOptions.self, from: Data(old.utf8)).limits == .standard)
    }

    // MARK: newc headers that lie

    /// A plain newc cpio of the µOS whose header for `init` has `field` replaced by `value` (8 hex digits).
    static func lying(_ field: NewcField, _ value: UInt32, filter: ArchiveFilter = .none,
                      in scratch: InitramfsScratch) throws -> [UInt8] {
        var image = MicroOSImage(rootfs: MicroOSTree.files())
        image.outerFilter = .none
        var cpio = try image.bytes()
        let name = Array("init\0".utf8)
        let magic = Array("07070".utf8)
        func isHeader(_ at: Int) -> Bool {
            let nameStart = at + 110
            return cpio[at ..< at + 5].elementsEqual(magic) && cpio[nameStart ..< nameStart + name.count].elementsEqual(name)
        }
        let found = (0 ..< cpio.count - 110).first(where: isHeader)
        let header = try #require(found)
        let hex = Array(String(format: "%08X", value).utf8)
        cpio.replaceSubrange(header + field.rawValue ..< header + field.rawValue + 8, with: hex)
        return filter == .none ? cpio : try InitramfsFixture.compress(cpio, with: filter, in: scratch)
    }

    enum NewcField: Int {
        case filesize = 54
        case namesize = 94
    }

    @Test("A newc header whose sizes lie is refused, naming the initramfs and segment",
          arguments: [(NewcField.filesize, UInt32.max), (.filesize, 0x7FFF_FFFF), (.namesize, UInt32.max),
                      (.namesize, 0x0100_0000), (.namesize, 0)],
          [ArchiveFilter.none, .gzip])
    func lyingHeader(field: (NewcField, UInt32), filter: ArchiveFilter) throws {
        let scratch = try InitramfsScratch()
        let path = try scratch.write("lying.img", try Self.lying(field.0, field.1, filter: filter, in: scratch))
        for error in try refusals(path, in: scratch) {
            if let error = error as? InitramfsError, field.0 == .namesize, field.1 > 4096 {
                // A name longer than PATH_MAX is refused from its header (FuzzInitramfsRegression).
                #expect(error.path == path && error.segment == 0 && error.kind == .corruptArchive, "\(error)")
                #expect(error.message.contains("declares a \(field.1)-byte name"), "\(error)")
            } else if let error = error as? InitramfsError {
                // The input ends where the lying size says there is more: the message says in which entry.
                #expect(error.path == path && error.segment == 0 && error.kind == .truncatedSegment, "\(error)")
                let place = field.0 == .filesize ? "in the data of \"init\" (its header declares \(field.1) bytes)"
                    : "in the entry header after \"bin/busybox\""
                #expect(error.message.contains("ends inside cpio archive 0") && error.message.contains(place), "\(error)")
                #expect(!error.message.contains("libarchive error"), "\(error)")
            } else if case .unpackLimit(let input, let message)? = error as? MicroOSError {
                // A 4 GiB file is refused by its header before the reader finds the data missing.
                #expect(input == path && message.contains("init declares"), "\(error)")
            } else if case .rejected(let input, let reason)? = error as? MicroOSError {
                // A zero name size reads as an entry without a name, which the index refuses first.
                #expect(input == path && field.1 == 0 && reason == .unsafePath(entry: "", problem: .empty), "\(error)")
            } else {
                Issue.record("unexpected \(type(of: error)): \(error)")
            }
        }
        // The reader alone reports the damage (it has no per-entry limit); a zero name size reads as a damaged header.
        let failure = try #require(InitramfsFixture.failure(reading: path))
        #expect(failure.path == path && failure.segment == 0, "\(failure)")
        let oversizedName = field.0 == .namesize && field.1 > 4096
        #expect(failure.kind == (field.1 == 0 || oversizedName ? .corruptArchive : .truncatedSegment), "\(failure)")
    }

    // MARK: Helpers

    /// Sets the size field of the ustar header of `name` in an uncompressed tar to `size` in base-256 (GNU's
    /// encoding for sizes past 8 GiB), fixing the header checksum.
    static func setTarSize(_ size: Int64, of name: String, in tar: inout [UInt8]) throws {
        let wanted = Array(name.utf8)
        let header = try #require(stride(from: 0, to: tar.count - 512, by: 512).first { at in
            tar[at ..< at + wanted.count].elementsEqual(wanted) && tar[at + wanted.count] == 0
                && tar[(at + 257) ..< (at + 262)].elementsEqual("ustar".utf8)
        })
        var field = [UInt8](repeating: 0, count: 12)
        field[0] = 0x80
        for index in 0 ..< 8 { field[11 - index] = UInt8(truncatingIfNeeded: size >> (8 * index)) }
        tar.replaceSubrange(header + 124 ..< header + 136, with: field)
        tar.replaceSubrange(header + 148 ..< header + 156, with: [UInt8](repeating: 0x20, count: 8))
        let sum = tar[header ..< header + 512].reduce(0) { $0 + Int($1) }
        let octal = Array(String(format: "%06o", sum).utf8) + [0, 0x20]
        tar.replaceSubrange(header + 148 ..< header + 156, with: octal)
    }
}
