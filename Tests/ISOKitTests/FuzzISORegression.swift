import Foundation
import Glibc
import ISOKit
import Testing

/// fuzz/ (FuzzISO) found images that made libisofs recurse until the 10 s timeout and images on which it leaked,
/// both behind `ISODirectoryCheck`, which walked the directory trees differently from libisofs: libisofs takes a
/// directory's size from its own "." record and reads every record after the first two as an entry, reads every
/// volume descriptor to the terminator, goes by Rock Ridge's PX mode, and loses memory on records it gives up on.
/// Each input is now refused by the check, quickly, before libisofs imports it.
@Suite struct FuzzISORegression {
    /// The inputs (fuzz/regressions/FuzzISO) and what the refusal says.
    static let inputs: [(file: String, message: String)] = [
        // /EFI's "." record points at block 4294964758 and claims 2303 bytes: libisofs read /EFI/BOOT's block as
        // part of /EFI, whose ".." (block 22, /EFI itself) it entered again and again.
        ("timeout-617cc8c066d101184a0483f09bc2b998caabdada",
         "the ISO 9660 tree: directory /EFI: its \".\" record points at block 4294964758, not at the directory's own block 22"),
        // /.disk's "." record: block 1304, 2303 bytes; /boot's ".." (the root) was read as an entry of /.disk.
        ("timeout-b1ba1bcb402783dc73dc32c5c2535ed3ebff7bd9",
         "the ISO 9660 tree: directory /_disk: its \".\" record points at block 1304, not at the directory's own block 24"),
        // /boot's "." record claims 2300 bytes: /boot/grub's ".." (/boot) read as an entry of /boot.
        ("timeout-d2b93db8372f5329a35da69da7fcd5fbc202f8dd",
         "the ISO 9660 tree: directory /boot: its \".\" record gives it 2300 bytes, its record in the parent 2048"),
        // /EFI's "." claims 2112 bytes: /EFI/BOOT's "." record read as an entry, a nameless node whose path
        // libisofs cannot build; it gives up without releasing it (and the image it holds).
        ("leak-3780cda1d2e8b088cd63be7a0442760db90a0441",
         "the ISO 9660 tree: directory /EFI: its \".\" record gives it 2112 bytes, its record in the parent 2048"),
        // The same through /.disk's "." record (2072 bytes).
        ("leak-df357c2b6ab4c06cd88298c6a047f5d13faf396c",
         "the ISO 9660 tree: directory /_disk: its \".\" record gives it 2072 bytes, its record in the parent 2048"),
        // /boot/vmlinuz-link's SL entry: a component of 5 bytes in room for 7, the rest read as a component that
        // continues; libisofs ends the import ("Incomplete link destination") and leaks the target it built.
        ("leak-8510eb6cd294d1c6e48fc232bf8e51011c2e3ab3",
         "the ISO 9660 tree: /boot/vmlinuz-.: a damaged Rock Ridge SL entry (a component overruns it)"),
    ]

    static func regression(_ file: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz/regressions/FuzzISO/\(file)").path
    }

    @Test("The inputs FuzzISO saved are refused by the directory check, quickly", arguments: inputs.map(\.file))
    func savedInputs(file: String) throws {
        let path = Self.regression(file)
        let expected = try #require(Self.inputs.first { $0.file == file }?.message)
        let start = ContinuousClock.now
        let error = #expect(throws: ISOError.self) { try ISOImage(reading: path) }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(5), "took \(elapsed)")
        #expect(error?.operation == .importImage)
        #expect(error?.code == 0, "refused before libisofs imports it: \(String(describing: error))")
        #expect(error?.path == path)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    // MARK: - The same faults, aimed at a good image

    /// A small image: Rock Ridge and Joliet (or not), /boot/grub/grub.cfg, a symlink, and a path deep enough
    /// that Rock Ridge relocates a directory.
    private func image(in directory: URL, rockRidge: Bool = true) throws -> RawISO {
        let image = try ISOImage(volumeID: "EMTS_FUZZ", timestamp: 1_700_000_000)
        try image.addFile("/boot/grub/grub.cfg", contents: Array("set timeout=5\n".utf8))
        try image.addSymlink("/boot/vmlinuz", target: "grub/../vmlinuz-6.1.0")
        try image.addFile("/images/os.raw", contents: patternBytes(count: 5000, seed: 9))
        try image.addFile("/d1/d2/d3/d4/d5/d6/d7/d8/d9/deep.txt", contents: Array("deep\n".utf8))
        let path = directory.appendingPathComponent("good.iso").path
        var options = ISOWriteOptions()
        options.rockRidge = rockRidge
        try image.write(to: path, options: options)
        return RawISO(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Writes `raw`, reads it back, and returns the check's refusal.
    private func refusal(_ raw: RawISO, in directory: URL,
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> String? {
        let path = directory.appendingPathComponent("damaged.iso").path
        try Data(raw.bytes).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: ISOError.self, sourceLocation: sourceLocation) { try ISOImage(reading: path) }
        #expect(error?.operation == .importImage, sourceLocation: sourceLocation)
        #expect(error?.code == 0, "refused by the check, not by libisofs: \(String(describing: error))",
                sourceLocation: sourceLocation)
        return error?.message
    }

    @Test("The good images read (Rock Ridge with relocation, and Joliet only)", arguments: [true, false])
    func goodImagesRead(rockRidge: Bool) throws {
        try withScratchDirectory { directory in
            let raw = try image(in: directory, rockRidge: rockRidge)
            let path = directory.appendingPathComponent("copy.iso").path
            try Data(raw.bytes).write(to: URL(fileURLWithPath: path))
            let read = try ISOImage(reading: path)
            #expect(read.features?.rockRidge == rockRidge)
            #expect(try read.contents(of: "/boot/grub/grub.cfg") == Array("set timeout=5\n".utf8))
            if rockRidge {
                #expect(try read.contents(of: "/d1/d2/d3/d4/d5/d6/d7/d8/d9/deep.txt") == Array("deep\n".utf8))
            }
        }
    }

    @Test("A directory whose \".\" record claims more than its entry is refused (libisofs reads the \".\" size)")
    func dotSizeDisagrees() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let boot = try #require(raw.child("BOOT", of: root))
            raw.setBoth(Int(boot.extent) * 2048 + 10, 4096)
            let message = try refusal(raw, in: directory)
            #expect(message?.contains("the ISO 9660 tree: directory /BOOT: its \".\" record gives it 4096 bytes, its "
                                          + "record in the parent 2048") == true, "\(String(describing: message))")
        }
    }

    @Test("A directory spanning the next directory's block is refused at that block's \".\" record")
    func dotRecordAmongEntries() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            // A directory whose next block holds a directory walked after it: grown to two blocks, consistently
            // (entry and "." both), it reaches that directory's "." and ".." records.
            let directories = raw.directories(below: root)
            let grown = try #require(directories.enumerated().first { index, candidate in
                directories[(index + 1)...].contains { $0.extent == candidate.extent + 1 }
            }?.element)
            raw.setBoth(grown.offset + 10, 4096)
            raw.setBoth(Int(grown.extent) * 2048 + 10, 4096)
            let message = try refusal(raw, in: directory)
            #expect(message?.contains("a \".\" record among its entries (block \(grown.extent + 1))") == true,
                    "\(String(describing: message))")
        }
    }

    @Test("A directory whose \".\" record points elsewhere is refused")
    func dotExtentDisagrees() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 2))
            let boot = try #require(raw.child("boot", of: root, joliet: true))
            raw.setBoth(Int(boot.extent) * 2048 + 2, root.extent)
            let message = try refusal(raw, in: directory)
            #expect(message?.contains("the Joliet tree: directory /boot: its \".\" record points at block "
                                          + "\(root.extent), not at the directory's own block \(boot.extent)") == true,
                    "\(String(describing: message))")
        }
    }

    @Test("A directory's extent counts its extended attribute record, as libisofs reads it")
    func extendedAttributeLength() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let boot = try #require(raw.child("BOOT", of: root))
            // One block of extended attributes before the same directory: libisofs reads it where it was.
            raw.bytes[boot.offset + 1] = 1
            raw.setBoth(boot.offset + 2, boot.extent - 1)
            let path = directory.appendingPathComponent("ear.iso").path
            try Data(raw.bytes).write(to: URL(fileURLWithPath: path))
            #expect(try ISOImage(reading: path).contents(of: "/boot/grub/grub.cfg") == Array("set timeout=5\n".utf8))
        }
    }

    @Test("A file record whose Rock Ridge PX mode says directory is walked, as libisofs enters it")
    func rockRidgeModeMakesADirectory() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let boot = try #require(raw.child("BOOT", of: root))
            let grub = try #require(raw.child("GRUB", of: boot))
            let config = try #require(raw.child("GRUB.CFG", of: grub))
            #expect(raw.bytes[config.offset + 25] & 2 == 0)
            // Still a file by its flags, a directory by its PX mode, and pointing back at the root.
            raw.setBoth(config.offset + 2, root.extent)
            raw.setBoth(config.offset + 10, root.size)
            let px = try #require(raw.entry("PX", in: config))
            raw.setBoth(px + 4, 0o040755)
            let message = try refusal(raw, in: directory)
            #expect(message?.contains("directory /BOOT/GRUB/GRUB.CFG uses the extent of / (block \(root.extent))") == true,
                    "\(String(describing: message))")
        }
    }

    @Test("A damaged Rock Ridge symbolic link target is refused (libisofs gives up on it and leaks it)")
    func damagedSymlinkTarget() throws {
        try withScratchDirectory { directory in
            let good = try image(in: directory)
            let root = try #require(good.root(type: 1))
            let boot = try #require(good.child("BOOT", of: root))
            let link = try #require(good.child("VMLINUZ", of: boot))
            let name = "/BOOT/" + String(decoding: link.name.dropLast(2), as: UTF8.self)
            let sl = try #require(good.entry("SL", in: link))

            var overrun = good
            overrun.bytes[sl + 6] = 200  // the first component's length
            #expect(try refusal(overrun, in: directory)?.contains(
                "\(name): a damaged Rock Ridge SL entry (a component overruns it)") == true)

            var continues = good
            continues.bytes[sl + 4] |= 1  // the entry says the target goes on, and nothing follows
            #expect(try refusal(continues, in: directory)?.contains(
                "\(name): a Rock Ridge symbolic link target (SL) that never ends") == true)

            var relocated = good
            let tf = try #require(good.entry("TF", in: link))
            relocated.bytes[tf] = 0x52  // "RE"
            relocated.bytes[tf + 1] = 0x45
            #expect(try refusal(relocated, in: directory)?.contains(
                "\(name): a symbolic link target (SL) on a relocated directory's record") == true)
        }
    }

    @Test("A directory ending inside a multi-extent file is refused (libisofs leaks the unfinished file)")
    func openMultiExtentFile() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let images = try #require(raw.child("IMAGES", of: root))
            let last = try #require(raw.records(of: images).last)
            raw.bytes[last.offset + 25] |= 0x80
            let message = try refusal(raw, in: directory)
            #expect(message?.contains("directory /IMAGES ends inside a multi-extent file") == true,
                    "\(String(describing: message))")
        }
    }

    @Test("A Joliet loop behind a damaged volume descriptor is still found (libisofs reads on to the terminator)")
    func descriptorsToTheTerminator() throws {
        try withScratchDirectory { directory in
            // Without Rock Ridge libisofs imports the Joliet tree; its descriptor's "CD001" no longer says so.
            var raw = try image(in: directory, rockRidge: false)
            let block = try #require(raw.descriptor(type: 2))
            let root = try #require(raw.root(type: 2))
            let images = try #require(raw.child("images", of: root, joliet: true))
            raw.setBoth(images.offset + 2, root.extent)
            raw.setBoth(images.offset + 10, root.size)
            raw.bytes.replaceSubrange(block * 2048 + 1 ..< block * 2048 + 6, with: Array("XXXXX".utf8))
            let message = try refusal(raw, in: directory)
            #expect(message?.contains("the Joliet tree: directory /images uses the extent of /") == true,
                    "\(String(describing: message))")
        }
    }

    @Test("A volume descriptor set without a terminator is refused")
    func noTerminator() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let terminator = try #require(raw.descriptor(type: 255))
            raw.bytes[terminator * 2048] = 0
            // Every block after it too, to the end of the file: the set never ends.
            for block in terminator + 1 ..< raw.bytes.count / 2048 where raw.bytes[block * 2048] == 255 {
                raw.bytes[block * 2048] = 0
            }
            let message = try refusal(raw, in: directory)
            #expect(message?.contains("no volume descriptor set terminator") == true
                        || message?.contains("the file ends inside the volume descriptor set") == true,
                    "\(String(describing: message))")
        }
    }
}
