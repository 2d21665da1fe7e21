import ArchiveKit

/// How the µOS initramfs is rewritten.
public struct RewriteOptions: Sendable, Codable, Equatable {
    /// The nested root filesystem archive, as named in the initramfs (leading `./` or `/` ignored).
    public var nestedName: String
    /// Compression of the initramfs segments that were compressed in the input (plain segments, such as an
    /// early-microcode cpio, stay plain: the kernel's early loader reads them uncompressed).
    public var outerCompression: ArchiveFilter
    /// Compression level of the nested archive, nil for the filter's default (gzip 6).
    public var nestedLevel: Int?
    /// Where the root filesystem comes from.
    public var rootfs: RootfsSource

    public init(nestedName: String = "rootfs.tar.gz", outerCompression: ArchiveFilter = .gzip, nestedLevel: Int? = nil,
                rootfs: RootfsSource = .nested) {
        self.nestedName = nestedName
        self.outerCompression = outerCompression
        self.nestedLevel = nestedLevel
        self.rootfs = rootfs
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
