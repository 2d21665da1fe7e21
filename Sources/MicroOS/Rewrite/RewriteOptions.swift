import ArchiveKit

/// How the µOS initramfs is rewritten.
public struct RewriteOptions: Sendable, Codable, Equatable {
    /// The nested root filesystem archive, as named in the initramfs (leading `./` or `/` ignored).
    public var nestedName: String
    /// Compression of the initramfs segments that were compressed in the input (plain segments, such as an
    /// early-microcode cpio, stay plain: the kernel's early loader reads them uncompressed).
    public var outerCompression: ArchiveFilter
    /// Compression level of what the rewrite compresses in the nested archive: in a spliced gzip archive, its
    /// new entries and the blocks around removed ones (nil: `spliceLevel`'s default, 1); when the archive is
    /// compressed again as a whole, all of it (nil: the filter's default, gzip 6).
    public var nestedLevel: Int?

    /// zlib level of a splice's new runs: 1 unless `nestedLevel` says otherwise. The splice copies the original
    /// blocks as they are; what it adds is compressed fast (zlib 1 is 3.5x faster than 6 here, for about 10% more
    /// bytes on the added part only).
    var spliceLevel: Int { nestedLevel ?? 1 }
    /// Where the root filesystem comes from.
    public var rootfs: RootfsSource
    /// How much reading the µOS may unpack before it stops (a decompression bomb ends there).
    public var limits: UnpackLimits

    public init(nestedName: String = "rootfs.tar.gz", outerCompression: ArchiveFilter = .gzip, nestedLevel: Int? = nil,
                rootfs: RootfsSource = .nested, limits: UnpackLimits = .standard) {
        self.nestedName = nestedName
        self.outerCompression = outerCompression
        self.nestedLevel = nestedLevel
        self.rootfs = rootfs
        self.limits = limits
    }

    private enum CodingKeys: String, CodingKey { case nestedName, outerCompression, nestedLevel, rootfs, limits }

    /// Manifests written before the limits existed decode with the standard ones.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(nestedName: try container.decode(String.self, forKey: .nestedName),
                  outerCompression: try container.decode(ArchiveFilter.self, forKey: .outerCompression),
                  nestedLevel: try container.decodeIfPresent(Int.self, forKey: .nestedLevel),
                  rootfs: try container.decode(RootfsSource.self, forKey: .rootfs),
                  limits: try container.decodeIfPresent(UnpackLimits.self, forKey: .limits) ?? .standard)
    }

    /// The compressions the outer archive may take: what the kernel's initramfs unpacker reads. xz is written
    /// with CRC32 checks through liblzma (libarchive's xz carries CRC64, which the kernel refuses); not lz4:
    /// libarchive writes the lz4 frame format, the kernel reads only the legacy one.
    public static let outerCompressions: [ArchiveFilter] = [.gzip, .zstd, .xz, .none]

    /// Options for the outer filter: zstd and xz compress on both cores.
    var outerFilterOptions: [ArchiveOption] {
        switch outerCompression {
        case .zstd: [.threads(2, for: outerCompression)]
        default: ArchiveOption.reproducible(outerCompression)
        }
    }

    func nestedFilterOptions(_ filter: ArchiveFilter) -> [ArchiveOption] {
        var options = ArchiveOption.reproducible(filter)
        if let nestedLevel { options.append(.level(nestedLevel, for: filter)) }
        if filter == .zstd || filter == .xz { options.append(.threads(2, for: filter)) }
        return options
    }

    /// Whether an initramfs entry path names the nested archive.
    func isNested(_ path: String) -> Bool {
        Initramfs.normalizedName(path) == Initramfs.normalizedName(nestedName)
    }
}

/// Where the µOS root filesystem archive comes from.
public enum RootfsSource: Sendable, Codable, Equatable {
    /// The archive nested in the initramfs (the µOS as shipped).
    case nested
    /// A µOS image tarball: it becomes the nested archive, without its kernel files and `tmp/`
    /// (what `generate-tink-initramfs.sh` does).
    case tarball(path: String)
}

/// Bounds on what reading the µOS may unpack: a small input that inflates to terabytes or to millions of
/// entries (a decompression bomb) stops with an error naming the input and the limit, before the data is
/// decompressed, instead of running for hours or filling memory.
public struct UnpackLimits: Sendable, Codable, Equatable {
    /// Bytes the initramfs's segments may decompress to (padding included), and bytes of file data the root
    /// filesystem archive may unpack to; each is counted on its own.
    public var totalBytes: Int64
    /// Bytes of data one entry of the root filesystem archive may hold.
    public var entryBytes: Int64
    /// Entries the initramfs and the root filesystem archive may each hold.
    public var entries: Int

    public init(totalBytes: Int64, entryBytes: Int64, entries: Int) {
        self.totalBytes = totalBytes
        self.entryBytes = entryBytes
        self.entries = entries
    }

    /// Far above any µOS (a few hundred MB in some 50,000 entries, unpacked into RAM at boot): 8 GiB in all,
    /// 2 GiB for one file, a million entries.
    public static let standard = UnpackLimits(totalBytes: 8 << 30, entryBytes: 2 << 30, entries: 1_000_000)

    /// `standard` with another limit on the total.
    public static func total(_ bytes: Int64) -> UnpackLimits {
        var limits = standard
        limits.totalBytes = bytes
        limits.entryBytes = min(limits.entryBytes, bytes)
        return limits
    }
}

/// Counts one archive's entries and data against `UnpackLimits` header by header, before any data is read.
struct UnpackBudget {
    let limits: UnpackLimits
    /// The archive, as errors name it.
    let input: String
    private(set) var bytes: Int64 = 0
    private(set) var entries = 0

    init(_ limits: UnpackLimits, input: String) {
        self.limits = limits
        self.input = input
    }

    /// - Throws: `MicroOSError.unpackLimit` naming the archive, the entry and the limit it passes.
    mutating func admit(_ entry: ArchiveEntry) throws {
        entries += 1
        guard entries <= limits.entries else {
            throw MicroOSError.unpackLimit(input: input, message: "more than \(limits.entries) entries (the limit on "
                + "entries; the last one read is \(entry.path))")
        }
        guard entry.size <= limits.entryBytes else {
            throw MicroOSError.unpackLimit(input: input, message: "\(entry.path) declares \(entry.size) bytes, more than "
                + "the \(limits.entryBytes)-byte limit for one entry")
        }
        bytes += entry.size
        guard bytes <= limits.totalBytes else {
            throw MicroOSError.unpackLimit(input: input, message: "unpacks to more than the \(limits.totalBytes)-byte limit "
                + "on unpacked size (passed at \(entry.path), \(bytes) bytes)")
        }
    }
}
