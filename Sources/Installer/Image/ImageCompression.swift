import ArchiveKit

/// The compressions an OS image on the medium may have, told by its name and checked against its first bytes.
public enum ImageCompression: String, Sendable, Codable, CaseIterable {
    case gzip, zstd, xz

    /// The file name ending: `.raw.gz`, `.raw.zst`, `.raw.xz`.
    public var suffix: String {
        switch self {
        case .gzip: ".raw.gz"
        case .zstd: ".raw.zst"
        case .xz: ".raw.xz"
        }
    }

    /// The libarchive filter that decodes it.
    public var filter: ArchiveFilter {
        switch self {
        case .gzip: .gzip
        case .zstd: .zstd
        case .xz: .xz
        }
    }

    /// The compression a file name says, or `nil` for a name that is not an OS image.
    public init?(fileName: String) {
        guard let match = Self.allCases.first(where: { fileName.hasSuffix($0.suffix) && fileName.count > $0.suffix.count })
        else { return nil }
        self = match
    }

    /// The compression the first bytes of a stream show, or `nil` for none of these.
    public init?(magic: some Collection<UInt8>) {
        guard let filter = ArchiveFilter.detect(magic: magic),
              let match = Self.allCases.first(where: { $0.filter == filter }) else { return nil }
        self = match
    }
}
