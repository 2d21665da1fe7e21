import Glibc

/// Walks the directory trees of an image file before libisofs imports it, reading them the way libisofs does.
///
/// libisofs follows every directory record (and Rock Ridge child link) wherever it points, so a record that
/// points back at an ancestor's extent, crafted or damaged, makes it recurse without end, and records sharing
/// one extent make it read that subtree again and again. Here the trees libisofs may import (the primary one,
/// every Joliet and ISO 9660:1999 one) are walked reading directory records only: each directory extent must lie
/// inside the file, be reached once, and sit at most `maxDepth` levels down. The work and memory are bounded by
/// the file's size: directories are read a block at a time, and no directory block may be read twice (a
/// directory loop, or directories sharing or overlapping blocks).
///
/// What libisofs reads, and so what is walked here:
/// - every volume descriptor from block 17 to the terminator (type 255), whatever its identifier;
/// - a directory at its record's extent plus the extended attribute record's length, with the size its own
///   "." record gives (not its parent's record), the first two records skipped by position; so the "." and
///   ".." records must open every directory, agree with the record leading there, and no other record may be
///   named like them (a ".." copy among the entries is a loop, a "." copy a nameless entry libisofs leaks);
/// - Rock Ridge only with an SP entry and an RRIP ER entry in the root's "." record: then a record's PX mode,
///   not its directory flag, says whether it is a directory; a directory marked RE (its real place is elsewhere)
///   is not entered from `rr_moved`, a CL record is entered at the extent it names. Rock Ridge entries libisofs
///   gives up on, losing the memory it holds for them, are refused (see `rockRidge(_:skip:what:tree:role:)`);
/// - a multi-extent file's parts as one entry; a directory ending inside such a chain makes libisofs lose it.
struct ISODirectoryCheck {
    static let blockSize = 2048
    /// Deeper than any path Linux can open (PATH_MAX is 4096 bytes: at most 2048 levels of one-letter names).
    static let maxDepth = 2048
    /// Continuation areas followed per System Use field: real ones use one.
    static let maxContinuations = 16
    /// Volume descriptors read after the primary one before the terminator must have come (real images: 2 to 4).
    static let maxDescriptors = 64

    private let path: String
    private let descriptor: Int32
    private let fileSize: Int64
    /// The volume's size in blocks (the primary descriptor's): Rock Ridge continuation areas lie inside it.
    private var volumeBlocks: Int64 = 0
    /// Directory blocks already read in the tree being walked, with the directory they belong to.
    private var visited: [UInt32: String] = [:]

    /// One directory tree and how libisofs would read it.
    private struct Tree {
        var name: String
        var joliet = false
        /// The SUSP skip length when libisofs reads Rock Ridge in this tree, nil when it reads records plainly.
        var rockRidge: Int?
    }

    private struct Directory {
        /// The first block (the record's extent plus its extended attribute record).
        var location: UInt32
        /// The size the record leading here gives; nil for a Rock Ridge relocated directory (a CL entry).
        var size: UInt32?
        var path: String
        var depth: Int
    }

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
        // The primary volume descriptor, as libisofs checks it; a file without one is left to libisofs to refuse.
        guard 17 * Int64(Self.blockSize) <= fileSize else { return }
        let primary = try read(block: 16, count: 1)
        guard primary[0] == 1, primary[1 ... 5].elementsEqual("CD001".utf8), primary[6] == 1, primary[881] == 1 else {
            return
        }
        volumeBlocks = Int64(Self.le32(primary, 80))
        var trees: [(tree: Tree, root: [UInt8])] = [(Tree(name: "the ISO 9660 tree"), Array(primary[156 ..< 190]))]
        // libisofs reads on to the terminator, whatever the blocks between say (a damaged boot record, an
        // unknown type): a Joliet descriptor behind one of them is still read.
        var block: Int64 = 17
        while true {
            guard block < 17 + Int64(Self.maxDescriptors) else {
                throw fail("no volume descriptor set terminator in the \(Self.maxDescriptors) blocks after the "
                               + "primary volume descriptor")
            }
            guard (block + 1) * Int64(Self.blockSize) <= fileSize else {
                throw fail("the file ends inside the volume descriptor set (block \(block), no terminator)")
            }
            let descriptor = try read(block: block, count: 1)
            if descriptor[0] == 255 { break }
            if descriptor[0] == 2 {
                let joliet = descriptor[88] == 0x25 && descriptor[89] == 0x2F && [0x40, 0x43, 0x45].contains(descriptor[90])
                if joliet {
                    trees.append((Tree(name: "the Joliet tree", joliet: true), Array(descriptor[156 ..< 190])))
                } else if descriptor[6] == 2 {
                    trees.append((Tree(name: "the ISO 9660:1999 tree"), Array(descriptor[156 ..< 190])))
                }
            }
            block += 1
        }
        trees[0].tree.rockRidge = try rockRidgeSkip(root: trees[0].root)
        for (tree, root) in trees {
            visited = [:]
            try walk(Directory(location: Self.le32(root, 2) &+ UInt32(root[1]), size: Self.le32(root, 10), path: "/",
                               depth: 0), tree: tree)
        }
    }

    /// Walks one tree depth first (children in record order), without recursion.
    private mutating func walk(_ root: Directory, tree: Tree) throws(ISOError) {
        var pending = [root]
        while let directory = pending.popLast() {
            let children = try read(directory, tree: tree, isRoot: directory.depth == 0)
            pending.append(contentsOf: children.reversed())
        }
    }

    /// Reads one directory's records, block by block; returns its subdirectories.
    private mutating func read(_ directory: Directory, tree: Tree, isRoot: Bool) throws(ISOError) -> [Directory] {
        let (location, path) = (directory.location, directory.path)
        guard directory.depth <= Self.maxDepth else {
            throw fail("\(tree.name): directory \(path) lies more than \(Self.maxDepth) levels deep")
        }
        if let size = directory.size {
            guard size > 0, fits(location, size) else {
                throw fail("\(tree.name): directory \(path) has its \(size) bytes at block \(location), outside the "
                               + "\(fileSize)-byte file")
            }
        } else {
            guard fits(location, 1) else {
                throw fail("\(tree.name): directory \(path) lies at block \(location), outside the \(fileSize)-byte file")
            }
        }
        try visit(location, path: path, tree: tree)
        let first = try read(block: Int64(location), count: 1)

        // "." and "..": libisofs takes the size from "." and skips both by position, whatever they hold.
        let dotLength = Int(first[0])
        let dotDotLength = dotLength < Self.blockSize ? Int(first[dotLength]) : 0
        guard dotLength >= 34, first[32] == 1, first[33] == 0, dotDotLength >= 34,
              dotLength + dotDotLength <= Self.blockSize, first[dotLength + 32] == 1, first[dotLength + 33] == 1 else {
            throw fail("\(tree.name): directory \(path) does not start with its \".\" and \"..\" records (block "
                           + "\(location)): a damaged or crafted directory, refused")
        }
        let dotExtent = Self.le32(first, 2) &+ UInt32(first[1])
        guard dotExtent == location else {
            throw fail("\(tree.name): directory \(path): its \".\" record points at block \(dotExtent), not at the "
                           + "directory's own block \(location): a damaged or crafted directory, refused")
        }
        let size = Self.le32(first, 10)
        if let claimed = directory.size, claimed != size {
            throw fail("\(tree.name): directory \(path): its \".\" record gives it \(size) bytes, its record in the "
                           + "parent \(claimed): a damaged or crafted directory, refused")
        }
        guard size > 0, fits(location, size) else {
            throw fail("\(tree.name): directory \(path) has its \(size) bytes at block \(location), outside the "
                           + "\(fileSize)-byte file")
        }
        if isRoot, let skip = tree.rockRidge {
            let dot = Array(first[0 ..< dotLength])
            _ = try rockRidge(dot, skip: skip, what: "the root's \".\" record", tree: tree.name, role: .root)
        }

        var children: [Directory] = []
        // The identifier of a multi-extent file whose last part is still to come.
        var openChain: [UInt8]?
        let blocks = (Int64(size) + Int64(Self.blockSize) - 1) / Int64(Self.blockSize)
        for blockIndex in 0 ..< blocks {
            let block = location &+ UInt32(blockIndex)
            let data: [UInt8]
            if blockIndex == 0 {
                data = first
            } else {
                try visit(block, path: path, tree: tree)
                data = try self.read(block: Int64(block), count: 1)
            }
            let end = Int(min(Int64(Self.blockSize), Int64(size) - blockIndex * Int64(Self.blockSize)))
            var offset = blockIndex == 0 ? dotLength + dotDotLength : 0
            // Records do not cross block boundaries: a zero length byte starts the block's padding.
            while offset < end, data[offset] != 0 {
                let length = Int(data[offset])
                guard length >= 34, offset + length <= end else {
                    throw fail("\(tree.name): directory \(path): a damaged directory record at byte \(offset) of block \(block)")
                }
                let record = Array(data[offset ..< offset + length])
                offset += length
                let nameLength = Int(record[32])
                guard 33 + nameLength <= length else {
                    throw fail("\(tree.name): directory \(path): a directory record whose name overruns it in block \(block)")
                }
                // Only the first two records may be "." (0x00) and ".." (0x01): libisofs reads any other record as
                // an entry, a ".." copy pointing back up (a loop), a "." copy without a name (which it leaks).
                guard nameLength > 0, !(nameLength == 1 && record[33] <= 1) else {
                    let what = nameLength == 0 ? "a record without a name" : "a \"\(record[33] == 0 ? "." : "..")\" record"
                    throw fail("\(tree.name): directory \(path): \(what) among its entries (block \(block)): a "
                                   + "damaged or crafted directory, refused")
                }
                let name = Self.name(record, nameLength: nameLength, joliet: tree.joliet)
                let childPath = (path == "/" ? "" : path) + "/" + name
                let flags = record[25]
                let isMultiExtentPart = flags & 0x80 != 0
                if let chain = openChain, !record[33 ..< 33 + nameLength].elementsEqual(chain) {
                    throw fail("\(tree.name): \(childPath): the next part of a multi-extent file has another name")
                }
                if isMultiExtentPart {
                    guard flags & 0x02 == 0 else {
                        throw fail("\(tree.name): directory \(childPath) is recorded in more than one extent")
                    }
                    // libisofs reads no Rock Ridge entries before the last part.
                    openChain = Array(record[33 ..< 33 + nameLength])
                    continue
                }
                let lastPart = openChain != nil
                openChain = nil
                var isDirectory = flags & 0x02 != 0
                if let skip = tree.rockRidge {
                    let entries = try rockRidge(record, skip: skip, what: childPath, tree: tree.name, role: .entry)
                    if lastPart, entries.relocated || entries.childLink != nil {
                        throw fail("\(tree.name): \(childPath): a multi-extent file marked as a relocated directory")
                    }
                    if entries.relocated { continue }
                    if let childLink = entries.childLink {
                        try checkRelocated(at: childLink, path: childPath, tree: tree, skip: skip)
                        children.append(Directory(location: childLink, size: nil, path: childPath,
                                                  depth: directory.depth + 1))
                        continue
                    }
                    if let mode = entries.mode { isDirectory = mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
                }
                guard isDirectory else { continue }
                guard !lastPart else {
                    throw fail("\(tree.name): directory \(childPath) is recorded in more than one extent")
                }
                children.append(Directory(location: Self.le32(record, 2) &+ UInt32(record[1]), size: Self.le32(record, 10),
                                          path: childPath, depth: directory.depth + 1))
            }
        }
        if openChain != nil {
            throw fail("\(tree.name): directory \(path) ends inside a multi-extent file (its last part is missing): "
                           + "a damaged or crafted directory, refused")
        }
        return children
    }

    /// Marks a directory block as read in this tree, refusing one read before.
    private mutating func visit(_ block: UInt32, path: String, tree: Tree) throws(ISOError) {
        if let owner = visited[block] {
            let what = owner == path ? "is reached twice" : "uses the extent of \(owner) (block \(block))"
            throw fail("\(tree.name): directory \(path) \(what): a directory loop or shared directory, refused")
        }
        visited[block] = path
    }

    private func fits(_ block: UInt32, _ size: UInt32) -> Bool {
        let blocks = (Int64(size) + Int64(Self.blockSize) - 1) / Int64(Self.blockSize)
        return (Int64(block) + blocks) * Int64(Self.blockSize) <= fileSize
    }

    // MARK: - Rock Ridge

    /// The SUSP skip length when libisofs reads Rock Ridge: the root's "." record opens its System Use field with
    /// an SP entry, and an ER entry names RRIP (1.10 or 1.12). nil when libisofs reads the tree plainly.
    private func rockRidgeSkip(root: [UInt8]) throws(ISOError) -> Int? {
        let location = Self.le32(root, 2) &+ UInt32(root[1])
        guard fits(location, 1) else { return nil }  // the walk refuses it
        let block = try read(block: Int64(location), count: 1)
        let length = Int(block[0])
        guard length >= 34, block[32] == 1, block[33] == 0 else { return nil }  // the walk refuses it
        let area = Self.systemUseArea(Array(block[0 ..< length]))
        guard area.count >= 7, area[0] == 0x53, area[1] == 0x50, area[2] >= 7 else { return nil }  // SP
        // A damaged SP makes libisofs refuse the image; the plain walk is then harmless.
        guard area[3] == 1, area[4] == 0xBE, area[5] == 0xEF else { return nil }
        let entries = try systemUseEntries(area, from: Int(area[2]), what: "the root's \".\" record",
                                           tree: "the ISO 9660 tree")
        for entry in entries where Self.signature(entry) == "ER" && entry[3] == 1 {
            guard entry.count >= 8, entry.count >= 8 + Int(entry[4]) + Int(entry[5]) + Int(entry[6]) else {
                throw fail("the ISO 9660 tree: the root's \".\" record: a damaged Rock Ridge ER entry")
            }
            let id = String(decoding: entry[8 ..< 8 + Int(entry[4])], as: UTF8.self)
            if ["RRIP_1991A", "IEEE_P1282", "IEEE_1282"].contains(id) { return Int(area[6]) }
        }
        return nil
    }

    private enum Role {
        /// The root's "." record (libisofs finds no root when it is marked relocated).
        case root
        /// A directory's entry.
        case entry
        /// The "." record a CL entry leads to (libisofs ignores a CL entry there).
        case relocated
    }

    private struct RockRidge {
        /// The PX mode, when there is a valid PX entry: the file type libisofs goes by.
        var mode: UInt32?
        /// The CL entry's block: the directory relocated from here.
        var childLink: UInt32?
        /// An RE entry: a directory whose real place is elsewhere, not entered from here.
        var relocated = false
    }

    /// The Rock Ridge entries of one record that decide what libisofs follows, refusing what makes libisofs give
    /// up on the record: with the abort severity ISOKit sets, a damaged RRIP entry (no CL location, a name or
    /// symbolic link target left to continue, a PX mode of 0, an SF entry, a damaged SUSP field) ends the import,
    /// and libisofs then loses the name and link target it was reading (it frees neither on those paths, nor the
    /// link target of a record that also has an RE or CL entry). Real images carry none of these.
    private func rockRidge(_ record: [UInt8], skip: Int, what: String, tree: String,
                           role: Role) throws(ISOError) -> RockRidge {
        var result = RockRidge()
        var link = false
        var linkContinues = 0  // libisofs's state: 0 ended, 1 the target continues, 2 its last component continues
        var named = false
        var nameContinues = false
        var nameLength = 0
        var ignoreNames = false
        let damaged = "\(tree): \(what): a damaged Rock Ridge"
        for entry in try systemUseEntries(Self.systemUseArea(record), from: skip, what: what, tree: tree)
        where entry[3] == 1 {
            switch Self.signature(entry) {
            case "PX" where entry.count == 36 || entry.count == 44:
                result.mode = Self.le32(entry, 4)
            case "NM":
                guard entry.count >= 5 else { throw fail("\(damaged) NM entry") }
                if ignoreNames || (named && !nameContinues) {
                    ignoreNames = true
                    continue
                }
                guard entry.count > 5 else { continue }  // "." (libisofs skips it), or empty
                let part = entry[5...]
                guard !part.contains(0), !part.contains(0x2F) else {
                    throw fail("\(tree): \(what): a Rock Ridge name holding a NUL or \"/\"")
                }
                named = true
                nameContinues = entry[4] & 0x01 != 0
                nameLength += part.count
                if nameLength > 4095 { ignoreNames = true }
            case "SL":
                guard entry.count >= 5 else { throw fail("\(damaged) SL entry") }
                if link && linkContinues == 0 { continue }  // libisofs ignores a second target
                var at = 5
                while at < entry.count {
                    guard at + 2 <= entry.count, at + 2 + Int(entry[at + 1]) <= entry.count else {
                        throw fail("\(damaged) SL entry (a component overruns it)")
                    }
                    let flags = entry[at]
                    guard flags & 0x0E != 0 || flags & ~0x01 == 0 else {
                        throw fail("\(damaged) SL entry (component flags \(flags))")
                    }
                    link = true
                    linkContinues = flags & 0x01 != 0 ? 2 : 1
                    at += 2 + Int(entry[at + 1])
                }
                if linkContinues != 2 { linkContinues = entry[4] & 0x01 != 0 ? 1 : 0 }
            case "RE":
                result.relocated = true
            case "CL" where role != .relocated:
                guard entry.count >= 12 else { throw fail("\(damaged) CL entry") }
                let block = Self.le32(entry, 4)
                guard block != 0 else { throw fail("\(tree): \(what): a Rock Ridge CL entry without a location") }
                result.childLink = block
            case "SF":
                throw fail("\(tree): \(what): a Rock Ridge sparse file (SF), which libisofs cannot read")
            default:
                break
            }
        }
        if role == .root, result.childLink != nil {
            // libisofs would take the root from where the CL entry points.
            throw fail("\(tree): \(what) carries a Rock Ridge child link (CL)")
        }
        if result.relocated, role != .entry {
            throw fail("\(tree): \(what) is marked relocated (RE) where a directory must be")
        }
        if link, result.relocated || result.childLink != nil {
            throw fail("\(tree): \(what): a symbolic link target (SL) on a relocated directory's record")
        }
        if result.mode == 0, result.childLink == nil, !result.relocated {
            throw fail("\(tree): \(what): a Rock Ridge PX entry with mode 0")
        }
        if nameContinues { throw fail("\(tree): \(what): a Rock Ridge name (NM) that never ends") }
        if linkContinues != 0 { throw fail("\(tree): \(what): a Rock Ridge symbolic link target (SL) that never ends") }
        return result
    }

    /// The "." record a CL entry leads to: libisofs makes the relocated directory from it.
    private func checkRelocated(at block: UInt32, path: String, tree: Tree, skip: Int) throws(ISOError) {
        let what = "\(path)'s relocated directory (block \(block))"
        guard fits(block, 1) else { throw fail("\(tree.name): \(what) lies outside the \(fileSize)-byte file") }
        let data = try read(block: Int64(block), count: 1)
        let length = Int(data[0])
        guard length >= 34, data[32] == 1, data[33] == 0 else {
            throw fail("\(tree.name): \(what) does not start with its \".\" record")
        }
        let dot = Array(data[0 ..< length])
        guard dot[25] & 0x80 == 0, dot[26] == 0, dot[27] == 0 else {
            throw fail("\(tree.name): \(what): its \".\" record is interleaved or in several extents")
        }
        let entries = try rockRidge(dot, skip: skip, what: what, tree: tree.name, role: .relocated)
        let isDirectory = entries.mode.map { $0 & UInt32(S_IFMT) == UInt32(S_IFDIR) } ?? (dot[25] & 0x02 != 0)
        guard isDirectory else { throw fail("\(tree.name): \(what) is not a directory") }
    }

    /// A record's System Use field: after the name and its padding byte.
    private static func systemUseArea(_ record: [UInt8]) -> [UInt8] {
        let nameLength = Int(record[32])
        let start = 33 + nameLength + (nameLength % 2 == 0 ? 1 : 0)
        return start < record.count ? Array(record[start...]) : []
    }

    /// The SUSP entries of a System Use field from `start` and of its continuation areas, as libisofs iterates
    /// them (CE followed, PD skipped, ST or less than 4 bytes ending an area), each whole; a damaged field is
    /// refused: an entry shorter than 4 bytes or overrunning its area, two CE entries in one area, a continuation
    /// area outside the file or the volume, more than `maxContinuations` of them.
    private func systemUseEntries(_ field: [UInt8], from start: Int, what: String,
                                  tree: String) throws(ISOError) -> [[UInt8]] {
        var area = field
        var at = start
        var entries: [[UInt8]] = []
        var continuations = 0
        while true {
            var next: (block: UInt32, offset: UInt32, length: UInt32)?
            while at + 4 <= area.count, !(area[at] == 0x53 && area[at + 1] == 0x54) {  // ST
                let length = Int(area[at + 2])
                guard length >= 4, at + length <= area.count else {
                    throw fail("\(tree): \(what): a damaged Rock Ridge (SUSP) entry")
                }
                let entry = Array(area[at ..< at + length])
                switch Self.signature(entry) {
                case "CE":
                    guard length >= 28 else { throw fail("\(tree): \(what): a damaged Rock Ridge CE entry") }
                    guard next == nil else {
                        throw fail("\(tree): \(what): two Rock Ridge continuation (CE) entries in one area")
                    }
                    next = (Self.le32(entry, 4), Self.le32(entry, 12), Self.le32(entry, 20))
                case "PD":
                    break
                default:
                    entries.append(entry)
                }
                at += length
            }
            guard let continuation = next, continuation.length > 0 else { break }
            continuations += 1
            guard continuations <= Self.maxContinuations else {
                throw fail("\(tree): \(what): more than \(Self.maxContinuations) Rock Ridge continuation areas")
            }
            let start = Int64(continuation.block) * Int64(Self.blockSize) + Int64(continuation.offset)
            let end = start + Int64(continuation.length)
            guard continuation.length <= UInt32(Self.blockSize), end <= fileSize,
                  end <= volumeBlocks * Int64(Self.blockSize) else {
                throw fail("\(tree): \(what): a Rock Ridge continuation area outside the file")
            }
            area = try read(at: start, count: Int(continuation.length), what: "\(what)'s Rock Ridge continuation area")
            at = 0
        }
        return entries
    }

    // MARK: - Bytes

    private static func signature(_ entry: [UInt8]) -> String {
        String(decoding: entry[0 ..< 2], as: UTF8.self)
    }

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
