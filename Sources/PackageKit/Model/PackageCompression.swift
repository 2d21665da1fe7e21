import ArchiveKit

/// How a package's payload (RPM) or member archive (Debian) is compressed.
public enum PackageCompression: String, Sendable, Hashable, Codable, CaseIterable {
    case none, gzip, xz, zstd, lzma, bzip2

    /// The compression RPM's `PAYLOADCOMPRESSOR` names (absent means gzip); nil for anything unknown.
    init?(rpmCompressor name: String) {
        switch name {
        case "gzip": self = .gzip
        case "xz": self = .xz
        case "zstd": self = .zstd
        case "lzma": self = .lzma
        case "bzip2": self = .bzip2
        // Written by rpm for uncompressed payloads (`w.ufdio`).
        case "identity", "none": self = .none
        default: return nil
        }
    }

    /// The compression a Debian member's name ends in (`data.tar.xz`), or nil for an unknown suffix.
    init?(debianSuffix suffix: String) {
        switch suffix {
        case "": self = .none
        case ".gz": self = .gzip
        case ".xz": self = .xz
        case ".zst": self = .zstd
        case ".lzma": self = .lzma
        case ".bz2": self = .bzip2
        default: return nil
        }
    }

    /// The compression the first bytes of a stream show, when they show one (lzma has no reliable magic).
    init?(magic bytes: [UInt8]) {
        switch ArchiveFilter.detect(magic: bytes) {
        case .gzip: self = .gzip
        case .xz: self = .xz
        case .zstd: self = .zstd
        case .bzip2: self = .bzip2
        case .lz4, .some(.none), nil: return nil
        }
    }

    /// Whether the stream's first bytes identify it, so a mismatch with the declared compression is detectable.
    var hasMagic: Bool { self == .gzip || self == .xz || self == .zstd || self == .bzip2 }
}
