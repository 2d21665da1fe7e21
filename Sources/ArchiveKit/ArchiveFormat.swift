import CArchive

/// Container formats emts-iso reads and writes.
public enum ArchiveFormat: String, Sendable, CaseIterable, Codable {
    /// SVR4 "newc" cpio, the format of Linux initramfs segments.
    case cpioNewc = "cpio-newc"
    /// POSIX pax tar: extended headers carry what ustar cannot (xattrs, sub-second times, long names, big sizes).
    case tarPax = "tar-pax"
    /// GNU tar.
    case tarGNU = "tar-gnu"
    /// POSIX ustar (no xattrs, 100-byte names).
    case tarUstar = "tar-ustar"
    /// Unix `ar` (GNU and BSD variants read; GNU written): the container of a Debian `.deb`. It holds only
    /// regular files, with 16-byte names unless a name table extends them.
    case ar = "ar"

    /// The formats that hold a file system tree (everything but `ar`): what readers accept by default.
    public static let fileSystemFormats: [ArchiveFormat] = [.cpioNewc, .tarPax, .tarGNU, .tarUstar]

    var code: Int32 {
        switch self {
        case .cpioNewc: ARCHIVE_FORMAT_CPIO_SVR4_NOCRC
        case .tarPax: ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE
        case .tarGNU: ARCHIVE_FORMAT_TAR_GNUTAR
        case .tarUstar: ARCHIVE_FORMAT_TAR_USTAR
        case .ar: ARCHIVE_FORMAT_AR_GNU
        }
    }

    /// Whether the format stores extended attributes.
    public var storesXattrs: Bool { self == .tarPax }

    /// Maps libarchive's detected format code to a known format (nil for anything else).
    init?(code: Int32) {
        switch code & ARCHIVE_FORMAT_BASE_MASK {
        case ARCHIVE_FORMAT_CPIO:
            if code == ARCHIVE_FORMAT_CPIO_SVR4_NOCRC { self = .cpioNewc } else { return nil }
        case ARCHIVE_FORMAT_TAR:
            switch code {
            case ARCHIVE_FORMAT_TAR_GNUTAR: self = .tarGNU
            case ARCHIVE_FORMAT_TAR_USTAR: self = .tarUstar
            default: self = .tarPax
            }
        case ARCHIVE_FORMAT_AR:
            self = .ar
        default: return nil
        }
    }
}

/// Compression filters around an archive stream.
public enum ArchiveFilter: String, Sendable, CaseIterable, Codable {
    case none, gzip, zstd, xz, lz4, bzip2

    var code: Int32 {
        switch self {
        case .none: ARCHIVE_FILTER_NONE
        case .gzip: ARCHIVE_FILTER_GZIP
        case .zstd: ARCHIVE_FILTER_ZSTD
        case .xz: ARCHIVE_FILTER_XZ
        case .lz4: ARCHIVE_FILTER_LZ4
        case .bzip2: ARCHIVE_FILTER_BZIP2
        }
    }

    init?(code: Int32) {
        guard let match = ArchiveFilter.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }

    /// The name libarchive uses for this filter's options ("gzip:compression-level=6").
    var optionModule: String { rawValue }

    /// Identifies the filter from the first bytes of a stream (nil when none matches: plain data).
    public static func detect(magic bytes: some Collection<UInt8>) -> ArchiveFilter? {
        let head = Array(bytes.prefix(6))
        func starts(_ prefix: [UInt8]) -> Bool { head.count >= prefix.count && Array(head.prefix(prefix.count)) == prefix }
        if starts([0x1F, 0x8B]) { return .gzip }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if starts([0x04, 0x22, 0x4D, 0x18]) || starts([0x02, 0x21, 0x4C, 0x18]) { return .lz4 }
        if starts([0x42, 0x5A, 0x68]) { return .bzip2 }
        return nil
    }
}

/// Options passed to a writer's filter or format, as libarchive's "module:key=value" strings.
public struct ArchiveOption: Sendable, Hashable {
    public var module: String
    public var key: String
    public var value: String

    public init(module: String, key: String, value: String) {
        self.module = module
        self.key = key
        self.value = value
    }

    /// Compression level for `filter` (gzip 1-9, zstd 1-22, xz 0-9 ...).
    public static func level(_ level: Int, for filter: ArchiveFilter) -> ArchiveOption {
        ArchiveOption(module: filter.optionModule, key: "compression-level", value: String(level))
    }

    /// Worker threads for a filter that supports them (zstd, xz).
    public static func threads(_ count: Int, for filter: ArchiveFilter) -> ArchiveOption {
        ArchiveOption(module: filter.optionModule, key: "threads", value: String(count))
    }

    /// Turns off a boolean option ("gzip:!timestamp").
    public static func disable(_ key: String, for module: String) -> ArchiveOption {
        ArchiveOption(module: module, key: "!" + key, value: "")
    }

    /// Streams identical for identical input: gzip headers carry no time.
    public static func reproducible(_ filter: ArchiveFilter) -> [ArchiveOption] {
        filter == .gzip ? [.disable("timestamp", for: "gzip")] : []
    }

    var text: String { key.hasPrefix("!") ? "\(module):\(key)" : "\(module):\(key)=\(value)" }
}
