/// The header tags this library reads (rpm's `rpmtag.h`).
enum RPMTag: Int32, CustomStringConvertible {
    case name = 1000
    case version = 1001
    case release = 1002
    case epoch = 1003
    case arch = 1022
    case oldFilenames = 1027
    case fileSizes = 1028
    case fileModes = 1030
    case fileLinkTos = 1036
    case fileFlags = 1037
    case fileUserName = 1039
    case fileGroupName = 1040
    case provideName = 1047
    case requireFlags = 1048
    case requireName = 1049
    case requireVersion = 1050
    case provideFlags = 1112
    case provideVersion = 1113
    case dirIndexes = 1116
    case baseNames = 1117
    case dirNames = 1118
    case payloadFormat = 1124
    case payloadCompressor = 1125
    case longFileSizes = 5008
    /// The uncompressed payload's size (older rpm keep it here rather than in the signature).
    case archiveSize = 1046
    case longArchiveSize = 271

    /// rpm's name for the tag, as `rpm --querytags` lists it.
    var tagName: String {
        switch self {
        case .name: "NAME"
        case .version: "VERSION"
        case .release: "RELEASE"
        case .epoch: "EPOCH"
        case .arch: "ARCH"
        case .oldFilenames: "OLDFILENAMES"
        case .fileSizes: "FILESIZES"
        case .fileModes: "FILEMODES"
        case .fileLinkTos: "FILELINKTOS"
        case .fileFlags: "FILEFLAGS"
        case .fileUserName: "FILEUSERNAME"
        case .fileGroupName: "FILEGROUPNAME"
        case .provideName: "PROVIDENAME"
        case .requireFlags: "REQUIREFLAGS"
        case .requireName: "REQUIRENAME"
        case .requireVersion: "REQUIREVERSION"
        case .provideFlags: "PROVIDEFLAGS"
        case .provideVersion: "PROVIDEVERSION"
        case .dirIndexes: "DIRINDEXES"
        case .baseNames: "BASENAMES"
        case .dirNames: "DIRNAMES"
        case .payloadFormat: "PAYLOADFORMAT"
        case .payloadCompressor: "PAYLOADCOMPRESSOR"
        case .longFileSizes: "LONGFILESIZES"
        case .archiveSize: "ARCHIVESIZE"
        case .longArchiveSize: "LONGARCHIVESIZE"
        }
    }

    var description: String { "\(tagName) (\(rawValue))" }
}

/// The signature header tags this library reads (rpm's `rpmtag.h`, `RPMSIGTAG_*`).
enum RPMSignatureTag: Int32 {
    /// Bytes of the main header plus the payload, 32-bit.
    case size = 1000
    /// The same, 64-bit (packages over 4 GiB).
    case longSize = 270
    /// Bytes of the uncompressed payload (the cpio archive), 32-bit.
    case payloadSize = 1007
    /// The same, 64-bit.
    case longArchiveSize = 271
}

/// Bits of RPM's dependency flags (`rpmds.h`, `RPMSENSE_*`).
enum RPMSense {
    static let less: Int64 = 1 << 1
    static let greater: Int64 = 1 << 2
    static let equal: Int64 = 1 << 3
    static let rpmlib: Int64 = 1 << 24

    /// The version relation the flags express, or nil when they express none.
    static func relation(_ flags: Int64) -> VersionConstraint.Relation? {
        switch (flags & less != 0, flags & greater != 0, flags & equal != 0) {
        case (true, false, false): .less
        case (true, false, true): .lessOrEqual
        case (false, false, true): .equal
        case (false, true, true): .greaterOrEqual
        case (false, true, false): .greater
        default: nil
        }
    }
}

/// Bits of RPM's per-file flags (`rpmfiles.h`, `RPMFILE_*`).
enum RPMFileFlag {
    static let config: Int64 = 1 << 0
    static let documentation: Int64 = 1 << 1
    static let ghost: Int64 = 1 << 6
}
