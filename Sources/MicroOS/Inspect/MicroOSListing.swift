import ArchiveKit
import Crypto

/// One entry as a listing shows it: everything that makes two trees the same, with the data as a digest.
public struct ListedEntry: Sendable, Hashable, Codable {
    public var path: String
    public var kind: EntryKind
    public var permissions: UInt32
    public var uid: Int64
    public var gid: Int64
    public var mtime: Int64
    public var symlinkTarget: String?
    /// Extended attributes as `name=hex(value)`, sorted.
    public var xattrs: [String]
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// SHA-256 of the file's data (of the whole hard-link set's data for its members), nil for non-files.
    public var sha256: String?
    /// For members of a hard-link set: the set's first path in archive order.
    public var hardlinkGroup: String?
}

/// The µOS as its two listings: the initramfs entries (the nested archive excluded) and the nested root
/// filesystem's entries. Two µOS images with equal listings unpack to the same trees.
public struct MicroOSListing: Sendable, Equatable {
    public var outer: [ListedEntry]
    public var nested: [ListedEntry]
    public var nestedPath: String?

    /// Reads the whole initramfs (streaming; only digests are kept).
    /// - Throws: `InitramfsError`, `ArchiveError`, `MicroOSError.unpackLimit` past `limits`.
    public init(initramfs path: String, nestedName: String = Initramfs.rootfsName,
                limits: UnpackLimits = .standard) throws {
        let reader = try InitramfsReader(path: path, unpackLimit: limits.totalBytes)
        var outer = ListingBuilder(hardlinks: .cpio)
        var nested = ListingBuilder(hardlinks: .tar)
        var nestedPath: String?
        var outerBudget = UnpackBudget(limits, input: path)
        while let item = try reader.next() {
            try outerBudget.admit(item.entry)
            if Initramfs.normalizedName(item.entry.path) == Initramfs.normalizedName(nestedName), item.entry.kind == .regular {
                nestedPath = item.entry.path
                let name = "\(path):/\(nestedName)"
                let tar = try ArchiveReader(source: reader.entryData(), name: name, mode: .archive([.tarPax]))
                var budget = UnpackBudget(limits, input: name)
                while let entry = try tar.next() {
                    try budget.admit(entry)
                    try nested.add(entry, data: tar)
                }
            } else {
                try outer.add(item.entry, data: reader)
            }
        }
        self.outer = outer.finish()
        self.nested = nested.finish()
        self.nestedPath = nestedPath
    }
}

/// Builds listings, resolving hard links the way each format stores them.
private struct ListingBuilder {
    enum Hardlinks {
        /// tar: later links name the first and carry no data.
        case tar
        /// newc cpio: links share (device, inode); the data travels with the last one.
        case cpio
    }

    let hardlinks: Hardlinks
    private var entries: [ListedEntry] = []
    private var groupOfInode: [String: String] = [:]
    private var indexByPath: [String: Int] = [:]
    private var groupDigest: [String: String] = [:]

    init(hardlinks: Hardlinks) { self.hardlinks = hardlinks }

    mutating func add(_ entry: ArchiveEntry, data: some ByteSource) throws {
        let path = Initramfs.normalizedName(entry.path)
        var listed = ListedEntry(
            path: path, kind: entry.kind, permissions: entry.permissions, uid: entry.uid, gid: entry.gid,
            mtime: entry.mtime.seconds, symlinkTarget: entry.symlinkTarget,
            xattrs: entry.xattrs.map { "\($0.name)=\($0.value.map { String(format: "%02x", $0) }.joined())" }.sorted(),
            deviceMajor: entry.deviceMajor, deviceMinor: entry.deviceMinor, sha256: nil, hardlinkGroup: nil)
        var digest: String?
        if entry.kind == .regular {
            var hasher = SHA256()
            var buffer = [UInt8](repeating: 0, count: 256 << 10)
            var total = 0
            while true {
                let count = try buffer.withUnsafeMutableBytes { try data.read(into: $0) }
                if count == 0 { break }
                hasher.update(data: buffer[0 ..< count])
                total += count
            }
            if total > 0 || entry.hardlinkTarget == nil { digest = hasher.finalize().map { String(format: "%02x", $0) }.joined() }
        }
        switch hardlinks {
        case .tar:
            if let target = entry.hardlinkTarget {
                let group = Initramfs.normalizedName(target)
                listed.hardlinkGroup = group
                if let first = indexByPath[group] {
                    entries[first].hardlinkGroup = group
                    // The first link carried the data; its digest is the set's.
                    if groupDigest[group] == nil { groupDigest[group] = entries[first].sha256 }
                }
            }
        case .cpio:
            if entry.kind == .regular, entry.linkCount > 1 {
                let key = "\(entry.device):\(entry.inode)"
                let group = groupOfInode[key] ?? path
                groupOfInode[key] = group
                listed.hardlinkGroup = group
            }
        }
        if let group = listed.hardlinkGroup, let digest, listed.kind == .regular, digest != emptyDigest || groupDigest[group] == nil {
            groupDigest[group] = digest
        }
        listed.sha256 = listed.hardlinkGroup == nil ? digest : nil
        indexByPath[path] = entries.count
        entries.append(listed)
    }

    func finish() -> [ListedEntry] {
        entries.map { entry in
            var entry = entry
            if let group = entry.hardlinkGroup { entry.sha256 = groupDigest[group] }
            return entry
        }
    }
}

private let emptyDigest = SHA256.hash(data: [UInt8]()).map { String(format: "%02x", $0) }.joined()
