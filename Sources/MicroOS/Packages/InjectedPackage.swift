import PackageKit

/// One package the plan injects: what it is, the file it streams from, and where each payload entry lands.
public struct InjectedPackage: Codable, Sendable, Equatable {
    /// One payload entry to write.
    ///
    /// Payload entries the plan does not list are not written: directories the root already has (their
    /// mode and owner stay the root's).
    public struct Entry: Codable, Sendable, Equatable {
        /// The path in the payload, absolute and normalized (`/sbin/lvm`).
        public var source: String
        /// Where it lands in the root, relative and placed through the root's symlinks (`usr/sbin/lvm` on a
        /// usrmerged root).
        public var path: String
        /// For a hard link: the placed path of the entry it links to, as the payload names it.
        public var hardlink: String?

        public init(source: String, path: String, hardlink: String? = nil) {
            self.source = source
            self.path = path
            self.hardlink = hardlink
        }
    }

    public var name: String
    public var version: String
    public var architecture: String
    public var format: PackageFormat
    /// The package file, read again by the rewriter.
    public var file: String
    /// Payload entries that are not directories.
    public var fileCount: Int
    /// Placed paths of root files (and symlinks) the package replaces.
    ///
    /// A package file at a path the root already has wins: the root's entry is removed and the package's
    /// written. That is what dpkg and rpm do for a file no other installed package owns, and the µOS root
    /// records no owners to tell; refusing would make a package that ships a file the µOS image added by
    /// hand impossible to inject. The plan lists every replaced path so the choice is visible.
    public var replaced: [String]
    /// The payload entries to write, in payload order.
    public var entries: [Entry]

    public init(name: String, version: String, architecture: String, format: PackageFormat, file: String,
                fileCount: Int, replaced: [String], entries: [Entry]) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.format = format
        self.file = file
        self.fileCount = fileCount
        self.replaced = replaced
        self.entries = entries
    }
}
