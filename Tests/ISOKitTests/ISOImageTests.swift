import Foundation
import ISOKit
import Testing

private let epoch: Int64 = 1_700_000_000
private let grubConfig = Array("set timeout=5\nmenuentry 'EMT-S install' { linux /boot/vmlinuz }\n".utf8)
private let hostBytes = patternBytes(count: 300_000, seed: 42)
private let deepPath = "/EFI/BOOT/a/b/c/d/e/f/g/deep.txt"

/// Builds the test image: nested directories, a file from memory, one from a host path, a symlink,
/// an empty file with a non-ASCII name and a path deeper than ISO 9660's eight levels.
private func makeImage(hostFile: URL) throws -> ISOImage {
    let image = try ISOImage(volumeID: "EMTS_TEST", publisher: "EMT-S", applicationID: "emts-iso tests",
                             timestamp: epoch)
    try image.addDirectory("/boot/grub")
    try image.addFile("/boot/grub/grub.cfg", contents: grubConfig, attributes: NodeAttributes(permissions: 0o644))
    try image.addFile("/images/os.raw", hostPath: hostFile.path)
    try image.addSymlink("/boot/vmlinuz", target: "grub/../vmlinuz-6.1.0")
    try image.addFile("/übersicht.txt", contents: [UInt8]())
    try image.addFile(deepPath, contents: Array("deep\n".utf8),
                      attributes: NodeAttributes(permissions: 0o600, uid: 1000, gid: 100))
    try image.addDirectory("/boot", attributes: NodeAttributes(permissions: 0o700))
    return image
}

private func makeHostFile(in directory: URL) throws -> URL {
    let url = directory.appendingPathComponent("os.raw")
    try writeHostFile(url, bytes: hostBytes, permissions: 0o640, modified: Date(timeIntervalSince1970: 1_600_000_000))
    return url
}

@Suite struct ISOImageTests {
    @Test func writesAndReadsBack() throws {
        try withScratchDirectory { directory in
            let hostFile = try makeHostFile(in: directory)
            let output = directory.appendingPathComponent("out.iso")
            let image = try makeImage(hostFile: hostFile)
            #expect(image.volumeID == "EMTS_TEST")
            #expect(try image.contents(of: "/boot/grub/grub.cfg") == grubConfig, "an unwritten image reads too")

            var updates: [ISOWriteProgress] = []
            let report = try image.write(to: output.path) { updates.append($0) }
            #expect(report.warnings.contains { $0.contains("/boot/vmlinuz") && $0.contains("Joliet") },
                    "libisofs leaves symlinks out of Joliet and says so")
            #expect(report.bytes % 2048 == 0)
            #expect(report.bytes > UInt64(hostBytes.count))
            let size = try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? UInt64
            #expect(size == report.bytes)
            #expect(updates.first?.bytesWritten == 0)
            #expect(updates.last == ISOWriteProgress(bytesWritten: report.bytes, totalBytes: report.bytes))
            #expect(try listing(directory) == ["os.raw", "out.iso"], "no temporary file left behind")

            let read = try ISOImage(reading: output.path)
            #expect(read.volumeID == "EMTS_TEST")
            #expect(read.publisher == "EMT-S")
            #expect(read.applicationID == "EMTS-ISO TESTS", "libisofs maps volume attributes to upper case")
            let features = try #require(read.features)
            #expect(features.rockRidge)
            #expect(features.joliet)
            #expect(!features.elTorito)
            #expect(UInt64(features.blocks) * 2048 == report.bytes)

            let entries = Dictionary(uniqueKeysWithValues: try read.entries().map { ($0.path, $0) })
            #expect(Set(entries.keys) == [
                "/boot", "/boot/grub", "/boot/grub/grub.cfg", "/boot/vmlinuz", "/images", "/images/os.raw",
                "/übersicht.txt", "/EFI", "/EFI/BOOT", "/EFI/BOOT/a", "/EFI/BOOT/a/b", "/EFI/BOOT/a/b/c",
                "/EFI/BOOT/a/b/c/d", "/EFI/BOOT/a/b/c/d/e", "/EFI/BOOT/a/b/c/d/e/f", "/EFI/BOOT/a/b/c/d/e/f/g",
                deepPath,
            ])
            #expect(entries["/boot"]?.kind == .directory)
            #expect(entries["/boot"]?.permissions == 0o700)
            #expect(entries["/boot/grub"]?.permissions == 0o755)
            #expect(entries["/boot/grub/grub.cfg"]?.kind == .file)
            #expect(entries["/boot/grub/grub.cfg"]?.size == UInt64(grubConfig.count))
            #expect(entries["/boot/grub/grub.cfg"]?.mode == 0o100644)
            #expect(entries["/boot/grub/grub.cfg"]?.modificationTime == epoch)
            #expect(entries["/boot/vmlinuz"]?.kind == .symlink(target: "grub/../vmlinuz-6.1.0"))
            #expect(entries["/boot/vmlinuz"]?.mode == 0o120777)
            #expect(entries["/images/os.raw"]?.size == UInt64(hostBytes.count))
            #expect(entries["/images/os.raw"]?.mode == 0o100640, "host modes are kept")
            #expect(entries["/images/os.raw"]?.modificationTime == 1_600_000_000)
            #expect(entries["/übersicht.txt"]?.size == 0)
            #expect(entries["/übersicht.txt"]?.permissions == 0o444)
            #expect(entries[deepPath]?.permissions == 0o600)
            #expect(entries[deepPath]?.uid == 1000)
            #expect(entries[deepPath]?.gid == 100)
            #expect(entries.values.filter { $0.path != deepPath }.allSatisfy { $0.uid == 0 && $0.gid == 0 })

            #expect(try read.contents(of: "/boot/grub/grub.cfg") == grubConfig)
            #expect(try read.contents(of: "/images/os.raw") == hostBytes)
            #expect(try read.contents(of: "/übersicht.txt").isEmpty)
            #expect(try read.contents(of: deepPath) == Array("deep\n".utf8))
            var chunks = 0
            var streamed: [UInt8] = []
            try read.readFile("/images/os.raw", chunkSize: 65536) { chunk in
                chunks += 1
                streamed.append(contentsOf: chunk)
            }
            #expect(chunks == 5)
            #expect(streamed == hostBytes)
        }
    }

    @Test func xorrisoSeesTheSameTree() throws {
        try withScratchDirectory { directory in
            let hostFile = try makeHostFile(in: directory)
            let output = directory.appendingPathComponent("out.iso")
            try makeImage(hostFile: hostFile).write(to: output.path)

            let listing = try runTool(["xorriso", "-indev", output.path, "-find", "/", "-exec", "lsdl", "--"])
            try #require(listing.status == 0, "\(listing.output)")
            let lines = listing.output.split(separator: "\n").map(String.init)
            func line(for path: String) -> String? { lines.first { $0.hasSuffix("'\(path)'") || $0.contains("'\(path)' ->") } }
            #expect(line(for: "/boot/grub/grub.cfg")?.hasPrefix("-rw-r--r--") == true)
            #expect(line(for: "/images/os.raw")?.hasPrefix("-rw-r-----") == true)
            #expect(line(for: "/images/os.raw")?.contains(" \(hostBytes.count) ") == true)
            #expect(line(for: "/boot/vmlinuz")?.hasPrefix("lrwxrwxrwx") == true)
            #expect(line(for: "/boot/vmlinuz")?.hasSuffix("-> 'grub/../vmlinuz-6.1.0'") == true)
            #expect(line(for: "/boot")?.hasPrefix("drwx------") == true)
            #expect(line(for: deepPath) != nil)
            #expect(line(for: "/übersicht.txt") != nil, "\(listing.output)")

            let pvd = try runTool(["xorriso", "-indev", output.path, "-pvd_info"])
            #expect(pvd.output.contains("Volume Id    : EMTS_TEST"), "\(pvd.output)")
            #expect(pvd.output.contains("Publisher Id : EMT-S"), "\(pvd.output)")

            let extracted = directory.appendingPathComponent("extracted.raw")
            let extract = try runTool(["xorriso", "-osirrox", "on", "-indev", output.path,
                                       "-extract", "/images/os.raw", extracted.path])
            try #require(extract.status == 0, "\(extract.output)")
            #expect(try Data(contentsOf: extracted) == Data(hostBytes))
        }
    }

    @Test func sameInputsGiveSameBytes() throws {
        try withScratchDirectory { directory in
            let hostFile = try makeHostFile(in: directory)
            let first = directory.appendingPathComponent("first.iso")
            let second = directory.appendingPathComponent("second.iso")
            let options = ISOWriteOptions.reproducible(epoch: epoch)
            try makeImage(hostFile: hostFile).write(to: first.path, options: options)
            // A later second keeps any time of writing that leaks into the image from matching.
            Thread.sleep(forTimeInterval: 1.1)
            try makeImage(hostFile: hostFile).write(to: second.path, options: options)
            #expect(try Data(contentsOf: first) == Data(contentsOf: second))

            // With node times kept, fixed volume times and the image's fixed timestamp suffice.
            let keep = ISOWriteOptions(fileSerialNumbers: false, volumeTimestamp: epoch)
            try makeImage(hostFile: hostFile).write(to: first.path, options: keep)
            Thread.sleep(forTimeInterval: 1.1)
            try makeImage(hostFile: hostFile).write(to: second.path, options: keep)
            #expect(try Data(contentsOf: first) == Data(contentsOf: second))

            let pvd = try runTool(["xorriso", "-indev", first.path, "-pvd_info"])
            #expect(pvd.output.contains("Creation Time: 2023111422132000"), "\(pvd.output)")

            // Without serial numbers (RRIP 1.10) the Rock Ridge data still reads back in full.
            let read = try ISOImage(reading: first.path)
            #expect(read.features?.rockRidge == true)
            #expect(try read.entry(at: "/boot/vmlinuz")?.kind == .symlink(target: "grub/../vmlinuz-6.1.0"))
            #expect(try read.entry(at: "/images/os.raw")?.mode == 0o100640)
            #expect(try read.contents(of: "/images/os.raw") == hostBytes)
        }
    }

    @Test func disappearingHostFileLeavesNoOutput() throws {
        try withScratchDirectory { directory in
            let hostFile = try makeHostFile(in: directory)
            let image = try makeImage(hostFile: hostFile)
            try FileManager.default.removeItem(at: hostFile)
            let output = directory.appendingPathComponent("out.iso")
            let error = #expect(throws: ISOError.self) { try image.write(to: output.path) }
            #expect(error?.operation == .writeImage)
            #expect(error?.path == output.path)
            #expect(error?.details.contains { $0.contains(hostFile.path) } == true, "\(String(describing: error))")
            #expect(try listing(directory).isEmpty, "neither output nor temporary file")
        }
    }

    @Test func failedWriteKeepsTheOldOutput() throws {
        try withScratchDirectory { directory in
            let hostFile = try makeHostFile(in: directory)
            let output = directory.appendingPathComponent("out.iso")
            try Data("previous image".utf8).write(to: output)
            let image = try makeImage(hostFile: hostFile)
            try FileManager.default.removeItem(at: hostFile)
            #expect(throws: ISOError.self) { try image.write(to: output.path) }
            #expect(try Data(contentsOf: output) == Data("previous image".utf8))
            #expect(try listing(directory) == ["out.iso"])
        }
    }

    @Test func unwritableOutputDirectoryFailsBeforeWriting() throws {
        try withScratchDirectory { directory in
            let image = try ISOImage(volumeID: "X")
            let output = directory.appendingPathComponent("missing/out.iso")
            let error = #expect(throws: ISOError.self) { try image.write(to: output.path) }
            #expect(error?.operation == .writeImage)
            #expect(error?.errno == ENOENT)
            #expect(error?.description.contains(output.path) == true)
            #expect(try listing(directory).isEmpty)
        }
    }

    @Test func addsHostTreesKeepingSymlinks() throws {
        try withScratchDirectory { directory in
            let tree = directory.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: tree.appendingPathComponent("usr/bin"),
                                                    withIntermediateDirectories: true)
            try writeHostFile(tree.appendingPathComponent("usr/bin/tool"), bytes: Array("#!/bin/sh\n".utf8),
                              permissions: 0o755, modified: Date(timeIntervalSince1970: 1_650_000_000))
            try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("bin").path,
                                                       withDestinationPath: "usr/bin")
            let image = try ISOImage(volumeID: "TREE", timestamp: epoch)
            try image.addTree("/root", hostDirectory: tree.path)
            let output = directory.appendingPathComponent("tree.iso")
            try image.write(to: output.path)

            let entries = Dictionary(uniqueKeysWithValues: try ISOImage(reading: output.path).entries().map { ($0.path, $0) })
            #expect(entries["/root/bin"]?.kind == .symlink(target: "usr/bin"))
            #expect(entries["/root/usr/bin/tool"]?.mode == 0o100755)
            #expect(entries["/root/usr/bin/tool"]?.modificationTime == 1_650_000_000)
        }
    }

    @Test func reportsErrorsWithTheirPaths() throws {
        try withScratchDirectory { directory in
            let image = try ISOImage(volumeID: "ERRORS")
            try image.addFile("/a.txt", contents: Array("a".utf8))
            let duplicate = #expect(throws: ISOError.self) { try image.addFile("/a.txt", contents: Array("b".utf8)) }
            #expect(duplicate?.operation == .addNode)
            #expect(duplicate?.path == "/a.txt")
            #expect(duplicate?.code ?? 0 < 0)
            #expect(duplicate?.message == "Node with same name already exists")
            #expect(duplicate?.severity == .failure)

            let notADirectory = #expect(throws: ISOError.self) { try image.addFile("/a.txt/b", contents: [UInt8]()) }
            #expect(notADirectory?.path == "/a.txt")
            #expect(throws: ISOError.self) { try image.addDirectory("relative/path") }
            #expect(throws: ISOError.self) { try image.addFile("/x", hostPath: directory.appendingPathComponent("none").path) }
            #expect(throws: ISOError.self) { try image.addFile("/x", hostPath: directory.path) }
            let missing = #expect(throws: ISOError.self) { try image.contents(of: "/nope") }
            #expect(missing?.operation == .readFile)
            #expect(throws: ISOError.self) { try image.setAttributes("/nope", NodeAttributes(permissions: 0o600)) }
            #expect(try image.entry(at: "/a.txt")?.size == 1)
            #expect(try image.entry(at: "/nope") == nil)

            let notAnImage = directory.appendingPathComponent("not.iso")
            try Data(patternBytes(count: 64 * 1024, seed: 7)).write(to: notAnImage)
            let importError = #expect(throws: ISOError.self) { try ISOImage(reading: notAnImage.path) }
            #expect(importError?.operation == .importImage)
            #expect(importError?.path == notAnImage.path)
            let absent = #expect(throws: ISOError.self) {
                try ISOImage(reading: directory.appendingPathComponent("absent.iso").path)
            }
            #expect(absent?.errno == ENOENT)

            let badLevel = #expect(throws: ISOError.self) {
                try image.write(to: directory.appendingPathComponent("x.iso").path, options: ISOWriteOptions(isoLevel: 4))
            }
            #expect(badLevel?.operation == .prepareWrite)
            #expect(try listing(directory) == ["not.iso"])
        }
    }
}

@Suite struct ISOExtentTests {
    @Test func extentsPointAtTheFilesBytesInTheImage() throws {
        try withScratchDirectory { directory in
            let image = try ISOImage(volumeID: "EXTENTS")
            let first = patternBytes(count: 5000, seed: 1)
            let second = patternBytes(count: 70_000, seed: 2)
            try image.addFile("/a/first.bin", contents: first)
            try image.addFile("/second.bin", contents: second)
            let output = directory.appendingPathComponent("x.iso").path
            try image.write(to: output)
            let read = try ISOImage(reading: output)
            let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
            for (path, bytes) in [("/a/first.bin", first), ("/second.bin", second)] {
                let extents = try read.extents(of: path)
                #expect(extents.count == 1 && extents[0].size == UInt64(bytes.count))
                let start = Int(extents[0].offset)
                #expect(extents[0].offset % 2048 == 0 && Array(whole[start ..< start + bytes.count]) == bytes)
            }
            #expect(throws: ISOError.self) { try read.extents(of: "/missing") }
            #expect(throws: ISOError.self) { try read.extents(of: "/a") }
            #expect(throws: ISOError.self, "a new image has no extents yet") { try image.extents(of: "/second.bin") }
        }
    }

    @Test func beforeCommitPatchesTheFinishedFileOrFailsTheWrite() throws {
        try withScratchDirectory { directory in
            let image = try ISOImage(volumeID: "PATCH")
            try image.addFile("/slot.bin", contents: [UInt8](repeating: 0x20, count: 16))
            let output = directory.appendingPathComponent("p.iso").path
            try image.write(to: output, beforeCommit: { temporary in
                let offset = try ISOImage(reading: temporary).extents(of: "/slot.bin")[0].offset
                let handle = try #require(FileHandle(forUpdatingAtPath: temporary))
                try handle.seek(toOffset: offset)
                try handle.write(contentsOf: Data("patched".utf8))
                try handle.close()
            })
            #expect(Array(try ISOImage(reading: output).contents(of: "/slot.bin").prefix(7)) == Array("patched".utf8))

            struct Refused: Error {}
            let failing = directory.appendingPathComponent("f.iso").path
            #expect(throws: ISOError.self) { try image.write(to: failing, beforeCommit: { _ in throw Refused() }) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["p.iso"],
                    "nothing left of the failed write")
        }
    }
}
