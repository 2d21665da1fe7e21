import DiskKit
import Foundation
@testable import Installer
import Testing

private let mebibyte: UInt64 = 1 << 20

/// A raw 8 MiB GPT image compressed as `compression` in `directory/images`, found as the medium would.
private func makeImage(_ directory: URL, compression: ImageCompression, checksum: String? = nil,
                       seed: UInt64 = 1) throws -> (raw: String, image: OSImage) {
    let raw = directory.appendingPathComponent("emt.raw").path
    try makeRawImage(raw, seed: seed)
    let images = directory.appendingPathComponent("images").path
    try compressImage(raw, name: "emt", compression: compression, into: images, checksum: checksum)
    return (raw, try OSImage.find(in: images, named: nil))
}

/// The target already carries a valid GPT (an earlier install) so a wipe can be seen.
private func makeUsedTarget(_ path: String, size: UInt64) throws {
    try makeSparseFile(path, size: size)
    try makeGPT(path, partitions: [PartitionSpec(start: 2048, end: Int64(size / 512) - 2048, name: "old")])
    #expect(try Blkid.probe(path).partitionTable != nil)
}

/// The target's first and last MiB are zero and no partition table is found.
private func expectWiped(_ path: String, size: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try readBytes(path, count: Int(mebibyte)).allSatisfy { $0 == 0 }, "first MiB", sourceLocation: sourceLocation)
    #expect(try readBytes(path, offset: size - mebibyte, count: Int(mebibyte)).allSatisfy { $0 == 0 }, "last MiB",
            sourceLocation: sourceLocation)
    #expect(try Blkid.probe(path).partitionTable == nil, sourceLocation: sourceLocation)
    // sgdisk finds no table to verify and starts an empty one in memory.
    let verify = try runTool(["sgdisk", "-v", path])
    #expect(verify.output.contains("Creating new GPT entries in memory"), "\(verify.output)", sourceLocation: sourceLocation)
}

@Suite struct ImageWriterTests {
    @Test(arguments: ImageCompression.allCases)
    func writesTheImageExactly(compression: ImageCompression) throws {
        try withScratchDirectory { directory in
            let (raw, image) = try makeImage(directory, compression: compression)
            #expect(image.compression == compression)
            let target = directory.appendingPathComponent("disk").path
            try makeUsedTarget(target, size: 8 * mebibyte)

            var updates: [WriteProgress] = []
            let report = try ImageWriter(chunkSize: 1 << 20, queueDepth: 2).write(image, to: target) { updates.append($0) }
            #expect(report.bytesWritten == 8 * mebibyte)
            #expect(report.compressedBytes == image.compressedBytes)
            #expect(report.sha256 == image.expectedSHA256)
            #expect(!report.backupGPTMoved)
            #expect(!report.partitionTableReread, "a regular file is not re-read")
            #expect(report.warnings.isEmpty)
            #expect(try mustRun(["cmp", raw, target]).isEmpty)
            #expect(try mustRun(["sgdisk", "-v", target]).contains("No problems found"))
            #expect(updates.last?.compressedRead == image.compressedBytes)
            #expect(updates.last?.bytesOut == 8 * mebibyte)
            #expect(updates.last?.fraction == 1)
        }
    }

    @Test func checksumMismatchWipesTheTarget() throws {
        try withScratchDirectory { directory in
            let (_, image) = try makeImage(directory, compression: .gzip, checksum: String(repeating: "ab", count: 32))
            let target = directory.appendingPathComponent("disk").path
            try makeUsedTarget(target, size: 16 * mebibyte)

            let error = #expect(throws: ImageWriteError.self) { try ImageWriter().write(image, to: target) }
            guard case .image(.checksumMismatch(let path, let expected, let actual))? = error?.problem else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(path == image.path)
            #expect(expected == String(repeating: "ab", count: 32))
            #expect(actual == (try sha256(of: image.path)))
            #expect(error?.wipe == .wiped)
            #expect(error?.isVerificationFailure == true)
            #expect(InstallError.write(try #require(error)).exitCode == .verificationFailed)
            let text = error?.description ?? ""
            #expect(text.contains("sha256 mismatch"))
            #expect(text.contains("the first and last MiB of \(target) were zeroed"))
            try expectWiped(target, size: 16 * mebibyte)
        }
    }

    @Test(arguments: ImageCompression.allCases)
    func truncatedImageFailsAndWipes(compression: ImageCompression) throws {
        try withScratchDirectory { directory in
            let (_, complete) = try makeImage(directory, compression: compression)
            // Cut the stream short, and give the cut file its own (matching) checksum: the stream itself must fail.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: complete.path))
            try handle.truncate(atOffset: complete.compressedBytes * 6 / 10)
            try handle.close()
            try writeText("\(try sha256(of: complete.path))  \(complete.name)\n", to: complete.checksumPath)
            let image = try OSImage.find(in: directory.appendingPathComponent("images").path, named: "emt")
            let target = directory.appendingPathComponent("disk").path
            try makeUsedTarget(target, size: 8 * mebibyte)

            let error = #expect(throws: ImageWriteError.self) { try ImageWriter().write(image, to: target) }
            guard case .image(.damaged(let path, let found, _))? = error?.problem else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(path == image.path)
            #expect(found == compression)
            #expect(error?.wipe == .wiped)
            #expect(error?.description.contains("stream is damaged or truncated") == true)
            try expectWiped(target, size: 8 * mebibyte)
        }
    }

    @Test func largerTargetGetsTheBackupGPTAtItsEnd() throws {
        try withScratchDirectory { directory in
            let (raw, image) = try makeImage(directory, compression: .zstd)
            let target = directory.appendingPathComponent("disk").path
            try makeUsedTarget(target, size: 32 * mebibyte)

            let report = try ImageWriter().write(image, to: target)
            #expect(report.backupGPTMoved)
            #expect(report.bytesWritten == 8 * mebibyte)
            #expect(try mustRun(["sgdisk", "-v", target]).contains("No problems found"))
            let table = try #require(try Blkid.probe(target).partitionTable)
            let original = try #require(try Blkid.probe(raw).partitionTable)
            #expect(table.partitions.map(\.start) == original.partitions.map(\.start))
            #expect(table.partitions.map(\.size) == original.partitions.map(\.size))
            #expect(table.id == original.id)
            // The partitions' contents are the image's.
            #expect(try readBytes(target, offset: mebibyte, count: Int(6 * mebibyte))
                == (try readBytes(raw, offset: mebibyte, count: Int(6 * mebibyte))))
        }
    }

    @Test func imageLargerThanTargetFailsAndWipes() throws {
        try withScratchDirectory { directory in
            let (_, image) = try makeImage(directory, compression: .xz)
            let target = directory.appendingPathComponent("disk").path
            try makeUsedTarget(target, size: 4 * mebibyte)

            let error = #expect(throws: ImageWriteError.self) { try ImageWriter(chunkSize: 1 << 20).write(image, to: target) }
            guard case .imageLargerThanTarget(let capacity, _)? = error?.problem else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(capacity == 4 * mebibyte)
            #expect(error?.wipe == .wiped)
            #expect(error?.isVerificationFailure == false)
            #expect(InstallError.write(try #require(error)).exitCode == .installFailed)
            try expectWiped(target, size: 4 * mebibyte)
        }
    }

    @Test func missingTargetIsNamed() throws {
        try withScratchDirectory { directory in
            let (_, image) = try makeImage(directory, compression: .gzip)
            let target = directory.appendingPathComponent("absent").path
            let error = #expect(throws: ImageWriteError.self) { try ImageWriter().write(image, to: target) }
            #expect(error?.description == "\(target): opening: No such file or directory")
            #expect(error?.wipe == .notNeeded)
        }
    }

    @Test func layoutComesFromTheImagesGPT() throws {
        try withScratchDirectory { directory in
            let (raw, image) = try makeImage(directory, compression: .gzip)
            let layout = try #require(try ImageLayout.read(image))
            #expect(layout.sectorSize == 512)
            #expect(layout.requiredBytes == 8 * mebibyte)
            #expect(layout.backupHeaderLBA == 16383)
            #expect(layout.espPartitionNumber == 1)
            #expect(layout.partitions.map(\.name) == ["esp", "rootfs"])
            #expect(layout.partitions.map(\.firstLBA) == [2048, 6144])
            #expect(layout.diskGUID == (try Blkid.probe(raw).partitionTable?.id))

            var head = try readBytes(raw, count: Int(mebibyte))
            head[512 + 40] ^= 0xFF
            #expect(ImageLayout(head: head) == nil, "a header with a bad CRC is no GPT")
            #expect(ImageLayout(head: [UInt8](repeating: 0, count: 4096)) == nil)
        }
    }
}
