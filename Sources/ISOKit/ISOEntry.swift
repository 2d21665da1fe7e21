/// Ownership, permissions and time to give a node in the image. `nil` fields are left as they are.
public struct NodeAttributes: Sendable, Hashable {
    /// Permission bits (`0o7777` at most); the file type is not changed.
    public var permissions: UInt32?
    /// Owner user id (Rock Ridge).
    public var uid: UInt32?
    /// Owner group id (Rock Ridge).
    public var gid: UInt32?
    /// Seconds since the epoch, recorded as modification, access and change time.
    public var timestamp: Int64?

    public init(permissions: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, timestamp: Int64? = nil) {
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.timestamp = timestamp
    }

    /// `self` with the fields of `other` that are set taking precedence.
    public func overridden(by other: NodeAttributes?) -> NodeAttributes {
        guard let other else { return self }
        return NodeAttributes(permissions: other.permissions ?? permissions, uid: other.uid ?? uid,
                              gid: other.gid ?? gid, timestamp: other.timestamp ?? timestamp)
    }
}

/// One node of an image's directory tree.
public struct ISOEntry: Sendable, Hashable {
    /// What kind of node it is.
    public enum Kind: Sendable, Hashable {
        case directory
        case file
        case symlink(target: String)
        /// A device, FIFO or socket (Rock Ridge only).
        case special
        /// The El Torito boot catalog.
        case bootCatalog
    }

    /// Absolute path inside the image ("/boot/grub/grub.cfg").
    public var path: String
    public var kind: Kind
    /// Size in bytes for files, 0 otherwise.
    public var size: UInt64
    /// The full mode: file type and permission bits, as `st_mode`.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Modification time, seconds since the epoch.
    public var modificationTime: Int64

    public init(path: String, kind: Kind, size: UInt64, mode: UInt32, uid: UInt32, gid: UInt32,
                modificationTime: Int64) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.modificationTime = modificationTime
    }

    /// The permission bits of `mode`.
    public var permissions: UInt32 { mode & 0o7777 }
}

/// The extensions found when an image was read.
public struct ISOFeatures: Sendable, Hashable {
    public var rockRidge: Bool
    public var joliet: Bool
    public var iso1999: Bool
    public var elTorito: Bool
    /// The image size in 2048-byte blocks.
    public var blocks: UInt32

    public init(rockRidge: Bool, joliet: Bool, iso1999: Bool, elTorito: Bool, blocks: UInt32) {
        self.rockRidge = rockRidge
        self.joliet = joliet
        self.iso1999 = iso1999
        self.elTorito = elTorito
        self.blocks = blocks
    }
}
