import CArchive

/// The kind of filesystem object an archive entry describes.
public enum EntryKind: String, Sendable, Codable {
    case regular, directory, symlink, characterDevice, blockDevice, fifo, socket

    var modeBits: UInt32 {
        switch self {
        case .regular: UInt32(EMTS_AE_IFREG)
        case .directory: UInt32(EMTS_AE_IFDIR)
        case .symlink: UInt32(EMTS_AE_IFLNK)
        case .characterDevice: UInt32(EMTS_AE_IFCHR)
        case .blockDevice: UInt32(EMTS_AE_IFBLK)
        case .fifo: UInt32(EMTS_AE_IFIFO)
        case .socket: UInt32(EMTS_AE_IFSOCK)
        }
    }

    init?(modeBits: UInt32) {
        switch modeBits & UInt32(EMTS_AE_IFMT) {
        case UInt32(EMTS_AE_IFREG): self = .regular
        case UInt32(EMTS_AE_IFDIR): self = .directory
        case UInt32(EMTS_AE_IFLNK): self = .symlink
        case UInt32(EMTS_AE_IFCHR): self = .characterDevice
        case UInt32(EMTS_AE_IFBLK): self = .blockDevice
        case UInt32(EMTS_AE_IFIFO): self = .fifo
        case UInt32(EMTS_AE_IFSOCK): self = .socket
        default: return nil
        }
    }
}

/// One extended attribute, in archive order.
public struct ExtendedAttribute: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }
}

/// A point in time with nanoseconds, as archives store it.
public struct ArchiveTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (a: ArchiveTime, b: ArchiveTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// Everything an archive records about one file, as a value.
///
/// A hard link is an entry whose `hardlinkTarget` names an earlier entry; in tar it carries no data,
/// in newc cpio the data travels with the last link of the set.
public struct ArchiveEntry: Sendable, Hashable {
    public var path: String
    public var kind: EntryKind
    /// Permission bits, including setuid/setgid/sticky (no file-type bits).
    public var permissions: UInt32
    public var uid: Int64
    public var gid: Int64
    public var userName: String?
    public var groupName: String?
    public var mtime: ArchiveTime
    /// Size of the entry's data in bytes (0 for directories, symlinks and devices).
    public var size: Int64
    public var symlinkTarget: String?
    public var hardlinkTarget: String?
    public var xattrs: [ExtendedAttribute]
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Inode, device and link count as recorded; cpio uses them to express hard links.
    public var inode: Int64
    public var device: UInt64
    public var linkCount: UInt32

    public init(path: String, kind: EntryKind, permissions: UInt32, uid: Int64 = 0, gid: Int64 = 0,
                userName: String? = nil, groupName: String? = nil,
                mtime: ArchiveTime = ArchiveTime(seconds: 0), size: Int64 = 0,
                symlinkTarget: String? = nil, hardlinkTarget: String? = nil,
                xattrs: [ExtendedAttribute] = [], deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0,
                inode: Int64 = 0, device: UInt64 = 0, linkCount: UInt32 = 1) {
        self.path = path
        self.kind = kind
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.userName = userName
        self.groupName = groupName
        self.mtime = mtime
        self.size = size
        self.symlinkTarget = symlinkTarget
        self.hardlinkTarget = hardlinkTarget
        self.xattrs = xattrs
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.inode = inode
        self.device = device
        self.linkCount = linkCount
    }

    /// A directory entry.
    public static func directory(_ path: String, permissions: UInt32 = 0o755, uid: Int64 = 0, gid: Int64 = 0,
                                 mtime: ArchiveTime = ArchiveTime(seconds: 0)) -> ArchiveEntry {
        ArchiveEntry(path: path, kind: .directory, permissions: permissions, uid: uid, gid: gid, mtime: mtime, linkCount: 2)
    }

    /// A regular file entry of `size` bytes (the data follows through the writer).
    public static func file(_ path: String, size: Int64, permissions: UInt32 = 0o644, uid: Int64 = 0, gid: Int64 = 0,
                            mtime: ArchiveTime = ArchiveTime(seconds: 0)) -> ArchiveEntry {
        ArchiveEntry(path: path, kind: .regular, permissions: permissions, uid: uid, gid: gid, mtime: mtime, size: size)
    }

    /// A symbolic link entry.
    public static func symlink(_ path: String, target: String, uid: Int64 = 0, gid: Int64 = 0,
                               mtime: ArchiveTime = ArchiveTime(seconds: 0)) -> ArchiveEntry {
        ArchiveEntry(path: path, kind: .symlink, permissions: 0o777, uid: uid, gid: gid, mtime: mtime, symlinkTarget: target)
    }

    /// The full st_mode: type bits plus permissions.
    public var mode: UInt32 { kind.modeBits | (permissions & 0o7777) }

    /// Whether data bytes follow this entry's header in the archive.
    public var carriesData: Bool { (kind == .regular) && size > 0 }
}

// MARK: - Conversion to and from libarchive's archive_entry

private func utf8String(_ utf8: UnsafePointer<CChar>?, fallback: UnsafePointer<CChar>?) -> String? {
    if let utf8 { return String(cString: utf8) }
    if let fallback { return String(cString: fallback) }
    return nil
}

extension ArchiveEntry {
    /// Reads every field of a libarchive entry.
    init(_ e: OpaquePointer, input: String) throws {
        guard let name = utf8String(archive_entry_pathname_utf8(e), fallback: archive_entry_pathname(e)) else {
            throw ArchiveError(operation: "reading header", input: input, message: "entry without a path name")
        }
        let rawMode = UInt32(archive_entry_mode(e))
        var path = name
        // tar marks directories with a trailing slash; cpio does not. One spelling for both.
        if rawMode & UInt32(EMTS_AE_IFMT) == UInt32(EMTS_AE_IFDIR), path.count > 1, path.hasSuffix("/") {
            path.removeLast()
        }
        let hardlink = utf8String(archive_entry_hardlink_utf8(e), fallback: archive_entry_hardlink(e))
        // A tar hard link header has no type bits of its own; it is a link to a regular file.
        guard let kind = EntryKind(modeBits: rawMode) ?? (hardlink != nil ? .regular : nil) else {
            throw ArchiveError(operation: "reading header", input: input,
                               message: "\(path): unknown file type in mode \(String(rawMode, radix: 8))")
        }
        var xattrs: [ExtendedAttribute] = []
        if archive_entry_xattr_reset(e) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK {
                guard let name else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                let attribute = ExtendedAttribute(name: String(cString: name), value: bytes)
                // pax archives written by libarchive carry each xattr twice (SCHILY.* and LIBARCHIVE.*).
                if let index = xattrs.firstIndex(where: { $0.name == attribute.name }) {
                    xattrs[index] = attribute
                } else {
                    xattrs.append(attribute)
                }
            }
        }
        self.init(
            path: path, kind: kind, permissions: rawMode & 0o7777,
            uid: archive_entry_uid(e), gid: archive_entry_gid(e),
            userName: archive_entry_uname_utf8(e).map { String(cString: $0) },
            groupName: archive_entry_gname_utf8(e).map { String(cString: $0) },
            mtime: ArchiveTime(seconds: Int64(archive_entry_mtime(e)),
                               nanoseconds: Int32(truncatingIfNeeded: archive_entry_mtime_nsec(e))),
            size: archive_entry_size_is_set(e) != 0 ? archive_entry_size(e) : 0,
            symlinkTarget: kind == .symlink ? utf8String(archive_entry_symlink_utf8(e), fallback: archive_entry_symlink(e)) : nil,
            hardlinkTarget: hardlink,
            xattrs: xattrs,
            deviceMajor: UInt32(truncatingIfNeeded: archive_entry_rdevmajor(e)),
            deviceMinor: UInt32(truncatingIfNeeded: archive_entry_rdevminor(e)),
            inode: archive_entry_ino64(e),
            device: UInt64(truncatingIfNeeded: archive_entry_dev(e)),
            linkCount: UInt32(truncatingIfNeeded: archive_entry_nlink(e)))
    }

    /// Fills a fresh libarchive entry with every field of this value.
    func fill(_ e: OpaquePointer) {
        archive_entry_set_pathname_utf8(e, path)
        archive_entry_set_mode(e, mode_t(mode))
        archive_entry_set_uid(e, uid)
        archive_entry_set_gid(e, gid)
        if let userName { archive_entry_set_uname_utf8(e, userName) }
        if let groupName { archive_entry_set_gname_utf8(e, groupName) }
        archive_entry_set_mtime(e, time_t(mtime.seconds), Int(mtime.nanoseconds))
        // Entries without a size are silently dropped by some writers: always set one.
        archive_entry_set_size(e, kind == .regular ? size : 0)
        if kind == .symlink, let symlinkTarget { archive_entry_set_symlink_utf8(e, symlinkTarget) }
        if let hardlinkTarget { archive_entry_set_hardlink_utf8(e, hardlinkTarget) }
        for attribute in xattrs {
            attribute.value.withUnsafeBytes { raw in
                archive_entry_xattr_add_entry(e, attribute.name, raw.baseAddress, raw.count)
            }
        }
        if kind == .characterDevice || kind == .blockDevice {
            archive_entry_set_rdevmajor(e, dev_t(deviceMajor))
            archive_entry_set_rdevminor(e, dev_t(deviceMinor))
        }
        archive_entry_set_ino64(e, inode)
        archive_entry_set_dev(e, dev_t(device))
        archive_entry_set_nlink(e, UInt32(linkCount))
    }
}
