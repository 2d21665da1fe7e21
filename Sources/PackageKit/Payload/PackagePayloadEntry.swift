import ArchiveKit

/// One file of a package's payload (RPM's cpio, Debian's data.tar), the same for both formats.
///
/// Hard links keep their archive's convention: in an RPM's newc cpio the data travels with the last link of a
/// set and the later links name an earlier one in `hardlinkTarget`; in a Debian tar the first link carries
/// the data and the later ones carry none.
public struct PackagePayloadEntry: Sendable, Hashable {
    /// Absolute and normalized: `/usr/bin/gawk`.
    public var path: String
    public var kind: EntryKind
    /// Permission bits including setuid, setgid and sticky (no file-type bits).
    public var permissions: UInt32
    /// Numeric owner as the archive records it.
    public var uid: Int64
    public var gid: Int64
    /// Owner names: from the RPM header's file list, or from the tar header.
    public var userName: String?
    public var groupName: String?
    public var mtime: ArchiveTime
    /// Bytes of data that follow (0 for directories, symlinks, devices and data-less hard links).
    public var size: Int64
    public var symlinkTarget: String?
    /// For a hard link: the normalized absolute path of the entry it links to.
    public var hardlinkTarget: String?
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    public var xattrs: [ExtendedAttribute]

    public init(path: String, kind: EntryKind, permissions: UInt32, uid: Int64 = 0, gid: Int64 = 0,
                userName: String? = nil, groupName: String? = nil, mtime: ArchiveTime = ArchiveTime(seconds: 0),
                size: Int64 = 0, symlinkTarget: String? = nil, hardlinkTarget: String? = nil,
                deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, xattrs: [ExtendedAttribute] = []) {
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
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.xattrs = xattrs
    }

    /// The full st_mode: type bits plus permissions.
    public var mode: UInt32 { ArchiveEntry(path: path, kind: kind, permissions: permissions).mode }

    /// The entry as an archive entry of a root filesystem archive: the path relative to the root
    /// (`usr/bin/gawk`, hard link targets likewise), owner names and numbers kept.
    public var rootArchiveEntry: ArchiveEntry {
        ArchiveEntry(path: String(path.dropFirst()), kind: kind, permissions: permissions, uid: uid, gid: gid,
                     userName: userName, groupName: groupName, mtime: mtime, size: size,
                     symlinkTarget: symlinkTarget, hardlinkTarget: hardlinkTarget.map { String($0.dropFirst()) },
                     xattrs: xattrs, deviceMajor: deviceMajor, deviceMinor: deviceMinor)
    }
}
