import ArchiveKit

/// What a scan of the µOS learned: the root filesystem's index and the sizes that decide RAM and time.
public struct MicroOSScan: Sendable {
    public var index: RootfsIndex
    public var layout: InitramfsLayout
    public var nested: NestedArchiveFacts
    /// Entries of the initramfs besides the nested archive.
    public var outerEntries: Int
    /// Bytes of regular-file data in the initramfs, including the nested archive itself.
    public var outerFileBytes: Int64
    /// How to splice a gzip nested archive instead of recompressing it (nil: not gzip, or not one member).
    public var nestedSplice: NestedSpliceMap?
}

/// The nested root filesystem archive as found (or as written).
public struct NestedArchiveFacts: Sendable, Codable, Equatable {
    /// Its path in the initramfs.
    public var path: String
    public var compression: ArchiveFilter
    public var entries: Int
    /// Its size in the initramfs (compressed).
    public var bytes: Int64
    /// Bytes of file data it unpacks to.
    public var unpackedBytes: Int64
}

/// The record of one rewrite, kept in the build manifest.
public struct RewriteReport: Sendable, Codable, Equatable {
    public var input: String
    public var output: String
    public var inputLayout: InitramfsLayout
    public var outputBytes: Int64
    public var outerCompression: ArchiveFilter
    public var outerEntries: Int
    public var nestedIn: NestedArchiveFacts
    public var nestedOut: NestedArchiveFacts
    /// Entries the plan removed from and added to the nested archive.
    public var removed: Int
    public var added: Int
    /// Kernel files a µOS image tarball carried and the nested archive leaves out (its `tmp/` goes too).
    public var dropped: [String]
    /// RAM the booted initramfs occupies at its peak: the image as loaded, the files it unpacks to, and the
    /// root filesystem unpacked from the nested archive into tmpfs (before the nested archive is deleted).
    public var ramNeededBytes: Int64
    /// How a gzip nested archive was spliced; nil when it was compressed again as a whole.
    public var splice: SpliceFigures? = nil
}

/// The work a splice of the nested archive did: what it compressed again, out of what it copied.
public struct SpliceFigures: Sendable, Codable, Equatable {
    /// Runs of deflate blocks compressed again (one per group of nearby removals, plus the new end).
    public var recompressedRuns: Int
    /// Uncompressed bytes inflated again around the edits, and bytes compressed (kept ones and additions).
    public var bytesInflated: Int64
    public var bytesDeflated: Int64
}

/// Progress of a rewrite, in bytes of the input consumed.
public struct RewriteProgress: Sendable {
    public var phase: String
    public var bytesDone: Int64
    public var bytesTotal: Int64
}
