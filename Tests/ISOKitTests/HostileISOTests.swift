import Foundation
import ISOKit
import Testing

/// Crafted images for the reader behind `emts-iso inspect` and `kargs`: each is refused with an error naming the
/// image and the directory at fault, instead of libisofs recursing for ever, and reading writes nothing.
@Suite struct HostileISOTests {
    /// A small image with Rock Ridge and Joliet: /boot/grub/grub.cfg, /images/os.raw, and a path deep enough
    /// that Rock Ridge relocates a directory.
    private func image(in directory: URL) throws -> RawISO {
        let image = try ISOImage(volumeID: "EMTS_HOSTILE", timestamp: 1_700_000_000)
        try image.addFile("/boot/grub/grub.cfg", contents: Array("set timeout=5\n".utf8))
        try image.addFile("/images/os.raw", contents: patternBytes(count: 5000, seed: 9))
        try image.addFile("/d1/d2/d3/d4/d5/d6/d7/d8/d9/deep.txt", contents: Array("deep\n".utf8))
        let path = directory.appendingPathComponent("good.iso").path
        try image.write(to: path)
        return RawISO(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Writes `raw` as hostile.iso, reads it back and returns the error, checking it names the image and that
    /// reading left the directory as it was.
    private func refusal(_ raw: RawISO, in directory: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> ISOError? {
        let path = directory.appendingPathComponent("hostile.iso").path
        try Data(raw.bytes).write(to: URL(fileURLWithPath: path))
        let before = try listing(directory)
        let error = #expect(throws: ISOError.self, sourceLocation: sourceLocation) { try ISOImage(reading: path) }
        #expect(error?.path == path, sourceLocation: sourceLocation)
        #expect(error?.operation == .importImage, sourceLocation: sourceLocation)
        #expect(error?.description.hasPrefix("\(path): ") == true, sourceLocation: sourceLocation)
        #expect(try listing(directory) == before, "reading the image wrote files", sourceLocation: sourceLocation)
        return error
    }

    @Test("The untouched image reads, relocated deep directory included (the check accepts Rock Ridge relocation)")
    func goodImageReads() throws {
        try withScratchDirectory { directory in
            let raw = try image(in: directory)
            let path = directory.appendingPathComponent("copy.iso").path
            try Data(raw.bytes).write(to: URL(fileURLWithPath: path))
            let read = try ISOImage(reading: path)
            #expect(try read.contents(of: "/d1/d2/d3/d4/d5/d6/d7/d8/d9/deep.txt") == Array("deep\n".utf8))
            #expect(try read.entries().count == 15)
        }
    }

    @Test("A directory pointing back at the root, in both trees, is refused as a loop naming it")
    func directoryPointingAtRoot() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let jolietRoot = try #require(raw.root(type: 2))
            raw.point(try #require(raw.child("BOOT", of: root)), at: root.extent, size: root.size)
            raw.point(try #require(raw.child("boot", of: jolietRoot, joliet: true)), at: jolietRoot.extent,
                      size: jolietRoot.size)
            let error = try refusal(raw, in: directory)
            #expect(error?.message.contains("directory /BOOT uses the extent of / (block \(root.extent))") == true,
                    "\(String(describing: error))")
            #expect(error?.message.contains("directory loop") == true, "\(String(describing: error))")
        }
    }

    @Test("A directory pointing at its parent, in the Rock Ridge tree only, is refused")
    func directoryPointingAtParent() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let boot = try #require(raw.child("BOOT", of: root))
            raw.point(try #require(raw.child("GRUB", of: boot)), at: boot.extent, size: boot.size)
            let error = try refusal(raw, in: directory)
            #expect(error?.message.contains("the ISO 9660 tree: directory /BOOT/GRUB uses the extent of /BOOT") == true,
                    "\(String(describing: error))")
        }
    }

    @Test("A loop in the Joliet tree only is refused too (an image without Rock Ridge is read through it)")
    func jolietLoop() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 2))
            let images = try #require(raw.child("images", of: root, joliet: true))
            raw.point(images, at: root.extent, size: root.size)
            let error = try refusal(raw, in: directory)
            #expect(error?.message.contains("the Joliet tree: directory /images uses the extent of /") == true,
                    "\(String(describing: error))")
        }
    }

    @Test("Two directories sharing one extent are refused (each would be read again below the other)")
    func sharedExtent() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let boot = try #require(raw.child("BOOT", of: root))
            raw.point(try #require(raw.child("IMAGES", of: root)), at: boot.extent, size: boot.size)
            let error = try refusal(raw, in: directory)
            #expect(error?.message.contains("uses the extent of /BOOT") == true, "\(String(describing: error))")
        }
    }

    @Test("A Rock Ridge child link pointing back at the root is refused as a loop")
    func childLinkLoop() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            // ISO 9660 allows eight levels with the root: /D1/.../D7 holds D8 as a file record with a CL entry
            // naming D8's new place in rr_moved.
            var parent = root
            for name in ["D1", "D2", "D3", "D4", "D5", "D6", "D7"] {
                parent = try #require(raw.child(name, of: parent))
            }
            let link = try #require(raw.child("D8", of: parent))
            #expect(!link.isDirectory)
            let end = link.offset + Int(raw.bytes[link.offset])
            let clAt = try #require((link.offset + 33 ..< end - 4).first { raw.bytes[$0] == 0x43 && raw.bytes[$0 + 1] == 0x4C })
            for index in 0 ..< 4 {
                raw.bytes[clAt + 4 + index] = UInt8(truncatingIfNeeded: root.extent >> (8 * index))
                raw.bytes[clAt + 8 + index] = UInt8(truncatingIfNeeded: root.extent >> (24 - 8 * index))
            }
            let error = try refusal(raw, in: directory)
            #expect(error?.message.contains("directory /D1/D2/D3/D4/D5/D6/D7/D8 uses the extent of /") == true,
                    "\(String(describing: error))")
        }
    }

    @Test("A directory whose extent lies past the end of the file is refused, naming it")
    func extentOutsideTheFile() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            raw.point(try #require(raw.child("IMAGES", of: root)), at: 0x00FF_FFFF, size: 2048)
            let error = try refusal(raw, in: directory)
            #expect(error?.message.contains("directory /IMAGES has its 2048 bytes at block \(0x00FF_FFFF), outside") == true,
                    "\(String(describing: error))")
        }
    }

    @Test("A directory record claiming a huge size is refused without reading it")
    func hugeDirectorySize() throws {
        try withScratchDirectory { directory in
            var raw = try image(in: directory)
            let root = try #require(raw.root(type: 1))
            let boot = try #require(raw.child("BOOT", of: root))
            raw.point(boot, at: boot.extent, size: 0xFFFF_F800)
            let error = try refusal(raw, in: directory)
            #expect(error?.message.contains("directory /BOOT has its \(0xFFFF_F800) bytes") == true,
                    "\(String(describing: error))")
        }
    }
}
