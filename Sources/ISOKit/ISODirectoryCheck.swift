import Glibc

/// Walks the directory trees of an image file before libisofs imports it.
///
/// libisofs follows every directory record (and Rock Ridge child link) wherever it points, so a record that
/// points back at an ancestor's extent, crafted or damaged, makes it recurse without end, and records sharing
/// one extent make it read that subtree again and again. Here every ISO 9660, Joliet and ISO 9660:1999 tree is
/// walked reading directory records only: each directory extent must lie inside the file, be reached once, and
/// sit at most `maxDepth` levels down. Rock Ridge relocation is followed as libisofs does: a directory marked
/// RE (its real place is elsewhere) is not entered from `rr_moved`, a CL record is entered at the extent it
/// names. The work and memory are bounded by the file's size: directories are read a block at a time, and no
/// directory block may be read twice (a directory loop, or directories sharing or overlapping blocks).
struct ISODirectoryCheck {
    static let blockSize = 2048
    /// Deeper than any path Linux can open (PATH_MAX is 4096 bytes: at most 2048 levels of one-letter names).
    static let maxDepth = 2048
    /// Continuation areas followed per System Use field: real ones use one.
    static let maxContinuations = 16

    private let path: String
    private let descriptor: Int32
    private let fileSize: Int64
    /// Directory blocks already read in the tree being walked, with the directory they belong to.
    private var visited: [UInt32: String] = [:]
    /// SUSP skip length (from the root's SP entry) in the tree being walked, nil when it has no SUSP.
    private var susp: Int?

    /// - Throws: `ISOError` (`.importImage`) naming `path` and the directory at fault.
    static func check(path: String) throws(ISOError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(.importImage, path: path, what: "cannot open") }
        defer { close(fd) }
        // The end by seeking: a stick written from the image is a block device, whose st_size is 0.
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0 else { throw .system(.importImage, path: path, what: "cannot read") }
        var check = ISODirectoryCheck(path: path, descriptor: fd, fileSize: Int64(size))
        try check.run()
    }

    private init(path: String, descriptor: Int32, fileSize: Int64) {
        self.path = path
        self.descriptor = descriptor
        self.fileSize = fileSize
    }

    private mutating func run() throws(ISOError) {
        // Volume descriptors from block 16 to the terminator; a file that has none is left to libisofs to refuse.
        var block: Int64 = 16
        while (block + 1) * Int64(Self.blockSize) <= fileSize, block < 16 + 64 {
            let descriptor = try read(block: block, count: 1)
            guard descriptor[1 ... 5].elementsEqual("CD001".utf8) else { return }
            let type = descriptor[0]
            if type == 255 { return }
            if type == 1 || type == 2 {
                let tree = type == 1 ? "the ISO 9660 tree" : "the Joliet tree"
                let root = Array(descriptor[156 ..< 190])
                let extent = Self.le32(root, 2)
                let size = Self.le32(root, 10)
                visited = [:]
                susp = nil
                try walk(extent: extent, size: size, path: "/", tree: tree, depth: 0, isRoot: true)
            }
            block += 1
        }
    }

    private struct Directory {
        var extent: UInt32
        var size: UInt32
        var path: String
        var depth: Int
    }

    /// Walks one tree depth first (children in record order), without recursion.
    private mutating func walk(extent: UInt32, size: UInt32, path: String, tree: String, depth: Int,
                               isRoot: Bool = false) throws(ISOError) {
        var pending = [Directory(extent: extent, size: size, path: path, depth: depth)]
        var first = isRoot
        while let directory = pending.popLast() {
            let children = try read(directory, tree: tree, isRoot: first)
            first = false
            pending.append(contentsOf: children.reversed())
        }
    }

    /// Reads one directory's records, block by block; returns its subdirectories.
    private mutating func read(_ directory: Directory, tree: String, isRoot: Bool) throws(ISOError) -> [Directory] {
        let (extent, size, path) = (directory.extent, directory.size, directory.path)
        guard directory.depth <= Self.maxDepth else {
            throw fail("\(tree): directory \(path) lies more than \(Self.maxDepth) levels deep")
        }
        let blocks = (Int64(size) + Int64(Self.blockSize) - 1) / Int64(Self.blockSize)
        guard size > 0, (Int64(extent) + blocks) * Int64(Self.blockSize) <= fileSize else {
            throw fail("\(tree): directory \(path) has its \(size) bytes at block \(extent), outside the "
                           + "\(fileSize)-byte file")
        }
        var children: [Directory] = []
        var index = 0
        for blockIndex in 0 ..< blocks {
            let block = extent + UInt32(blockIndex)
            if let owner = visited[block] {
                let what = owner == path ? "is reached twice" : "uses the extent of \(owner) (block \(block))"
                throw fail("\(tree): directory \(path) \(what): a directory loop or shared directory, refused")
            }
            visited[block] = path
            let data = try self.read(block: Int64(block), count: 1)
            let end = Int(min(Int64(Self.blockSize), Int64(size) - blockIndex * Int64(Self.blockSize)))
            var offset = 0
            // Records do not cross block boundaries: a zero length byte starts the block's padding.
            while offset < end, data[offset] != 0 {
                let length = Int(data[offset])
                guard length >= 34, offset + length <= end else {
                    throw fail("\(tree): directory \(path): a damaged directory record at byte \(offset) of block \(block)")
                }
                let record = Array(data[offset ..< offset + length])
                offset += length
                index += 1
                let nameLength = Int(record[32])
                guard 33 + nameLength <= length else {
                    throw fail("\(tree): directory \(path): a directory record whose name overruns it in block \(block)")
                }
                // The first two records are "." and "..": the root's "." carries Rock Ridge's SP entry.
                if index <= 2 {
                    if isRoot, index == 1, let skip = suspSkip(record, nameLength: nameLength) { susp = skip }
                    continue
                }
                let name = Self.name(record, nameLength: nameLength, joliet: tree.contains("Joliet"))
                let childPath = (path == "/" ? "" : path) + "/" + name
                let rockRidge = try suspEntries(record, nameLength: nameLength, path: childPath, tree: tree)
                if let childLink = rockRidge.childLink {
                    // A relocated directory: libisofs reads it where the CL entry points; its size is its "." record's.
                    let dot = try self.read(block: Int64(childLink), count: 1, what: "\(childPath)'s relocated directory")
                    children.append(Directory(extent: childLink, size: Self.le32(Array(dot[0 ..< 34]), 10), path: childPath,
                                              depth: directory.depth + 1))
                    continue
                }
                guard record[25] & 0x02 != 0, !rockRidge.relocated else { continue }
                children.append(Directory(extent: Self.le32(record, 2), size: Self.le32(record, 10), path: childPath,
                                          depth: directory.depth + 1))
            }
        }
        return children
    }

    // MARK: - Rock Ridge

    /// The skip length of the SP entry in the root's "." record, nil when there is none (no SUSP).
    private func suspSkip(_ record: [UInt8], nameLength: Int) -> Int? {
        let start = 33 + nameLength + (nameLength % 2 == 0 ? 1 : 0)
        guard start + 7 <= record.count, record[start] == 0x53, record[start + 1] == 0x50, record[start + 4] == 0xBE,
              record[start + 5] == 0xEF else { return nil }
        return Int(record[start + 6])
    }

    /// The CL (child link) and RE (relocated) entries of a record's System Use field and its continuations.
    private func suspEntries(_ record: [UInt8], nameLength: Int, path: String,
                             tree: String) throws(ISOError) -> (childLink: UInt32?, relocated: Bool) {
        guard let skip = susp else { return (nil, false) }
        var area = Array(record.dropFirst(33 + nameLength + (nameLength % 2 == 0 ? 1 : 0) + skip))
        var childLink: UInt32?
        var relocated = false
        var continuations = 0
        while true {
            var next: (block: UInt32, offset: UInt32, length: UInt32)?
            var at = 0
            while at + 4 <= area.count {
                let length = Int(area[at + 2])
                guard length >= 4, at + length <= area.count else { break }
                switch (area[at], area[at + 1]) {
                case (0x43, 0x4C) where length >= 12: childLink = Self.le32(area, at + 4)  // CL
                case (0x52, 0x45): relocated = true  // RE
                case (0x43, 0x45) where length >= 28:  // CE
                    next = (Self.le32(area, at + 4), Self.le32(area, at + 12), Self.le32(area, at + 20))
                case (0x53, 0x54): at = area.count; continue  // ST
                default: break
                }
                at += length
            }
            guard let continuation = next else { break }
            continuations += 1
            guard continuations <= Self.maxContinuations else {
                throw fail("\(tree): \(path): more than \(Self.maxContinuations) Rock Ridge continuation areas")
            }
            let start = Int64(continuation.block) * Int64(Self.blockSize) + Int64(continuation.offset)
            guard continuation.length <= UInt32(Self.blockSize), start + Int64(continuation.length) <= fileSize else {
                throw fail("\(tree): \(path): a Rock Ridge continuation area outside the file")
            }
            area = try read(at: start, count: Int(continuation.length), what: "\(path)'s Rock Ridge continuation area")
        }
        return (childLink, relocated)
    }

    // MARK: - Bytes

    private static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    /// A record's name for messages: Joliet's UCS-2, ISO 9660's without ";1".
    private static func name(_ record: [UInt8], nameLength: Int, joliet: Bool) -> String {
        let raw = Array(record[33 ..< 33 + nameLength])
        if joliet {
            let units = stride(from: 0, to: raw.count - 1, by: 2).map { UInt16(raw[$0]) << 8 | UInt16(raw[$0 + 1]) }
            return String(decoding: units, as: UTF16.self)
        }
        let text = String(decoding: raw, as: UTF8.self)
        return text.hasSuffix(";1") ? String(text.dropLast(2)) : text
    }

    private func read(block: Int64, count: Int, what: String? = nil) throws(ISOError) -> [UInt8] {
        try read(at: block * Int64(Self.blockSize), count: count * Self.blockSize, what: what ?? "block \(block)")
    }

    private func read(at offset: Int64, count: Int, what: String) throws(ISOError) -> [UInt8] {
        guard offset >= 0, offset + Int64(count) <= fileSize else {
            throw fail("\(what) lies outside the \(fileSize)-byte file")
        }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                if got < 0 { throw .system(.importImage, path: path, what: "reading \(what)") }
                throw fail("the file ends inside \(what)")
            }
            filled += got
        }
        return bytes
    }

    private func fail(_ message: String) -> ISOError {
        ISOError(operation: .importImage, path: path, message: message)
    }
}
