import ArchiveKit

/// One file of an RPM's header file list: what rpm would install, with names for its owner.
public struct RPMFile: Sendable, Hashable {
    /// Absolute path: `/usr/bin/gawk`.
    public var path: String
    /// The full st_mode as recorded (type and permission bits).
    public var mode: UInt32
    public var size: Int64
    public var userName: String?
    public var groupName: String?
    /// The symlink's target; nil for anything but a symlink.
    public var linkTarget: String?
    /// `RPMFILE_*` flags (config, doc, ghost ...).
    public var flags: Int64

    public init(path: String, mode: UInt32, size: Int64 = 0, userName: String? = nil, groupName: String? = nil,
                linkTarget: String? = nil, flags: Int64 = 0) {
        self.path = path
        self.mode = mode
        self.size = size
        self.userName = userName
        self.groupName = groupName
        self.linkTarget = linkTarget
        self.flags = flags
    }

    /// The file type; nil for a mode with no known type bits.
    public var kind: EntryKind? {
        switch mode & 0o170000 {
        case 0o100000: .regular
        case 0o040000: .directory
        case 0o120000: .symlink
        case 0o020000: .characterDevice
        case 0o060000: .blockDevice
        case 0o010000: .fifo
        case 0o140000: .socket
        default: nil
        }
    }

    /// Permission bits including setuid, setgid and sticky.
    public var permissions: UInt32 { mode & 0o7777 }

    /// A `%ghost` file: owned by the package, but not in its payload.
    public var isGhost: Bool { flags & RPMFileFlag.ghost != 0 }

    /// A `%config` file.
    public var isConfig: Bool { flags & RPMFileFlag.config != 0 }
}
