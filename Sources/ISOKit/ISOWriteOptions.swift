import CISOFS
import Glibc

/// How to write an image: ISO 9660 level, extensions, name relaxations, times and ownership.
///
/// The defaults are the medium design.md describes: level 3, Rock Ridge and Joliet, modes and owners
/// kept as set on the nodes, times recorded in GMT. `elTorito` and `systemArea` add the hybrid boot
/// layout (section 4): the catalog is validated against the tree and applied for the write only.
public struct ISOWriteOptions: Sendable, Hashable {
    /// Relaxations of ISO 9660 naming rules (they affect the plain ISO 9660 tree and Joliet, not Rock Ridge).
    public struct Relaxations: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Omit the ";1" version suffix of file names.
        public static let omitVersionNumbers = Relaxations(rawValue: 1 << 0)
        /// Allow directories deeper than 8 levels.
        public static let allowDeepPaths = Relaxations(rawValue: 1 << 1)
        /// Allow paths longer than 255 characters.
        public static let allowLongerPaths = Relaxations(rawValue: 1 << 2)
        /// Allow 37-character file names.
        public static let max37CharFilenames = Relaxations(rawValue: 1 << 3)
        /// Do not add a dot to names without one.
        public static let noForceDots = Relaxations(rawValue: 1 << 4)
        /// Keep lower case letters.
        public static let allowLowercase = Relaxations(rawValue: 1 << 5)
        /// Allow all ASCII characters except "/" and NUL.
        public static let allowFullASCII = Relaxations(rawValue: 1 << 6)
        /// Joliet paths longer than 240 characters.
        public static let jolietLongerPaths = Relaxations(rawValue: 1 << 7)
        /// Joliet names up to 103 characters.
        public static let jolietLongNames = Relaxations(rawValue: 1 << 8)
    }

    /// What to record as node times.
    public enum NodeTimes: Sendable, Hashable {
        /// Each node's own times.
        case keep
        /// One time (seconds since the epoch) for every node.
        case replace(with: Int64)
    }

    /// ISO 9660 interchange level, 1 to 3 (3 allows files of 4 GiB and more).
    public var isoLevel: Int = 3
    /// Write Rock Ridge (POSIX names, modes, owners, symlinks).
    public var rockRidge = true
    /// Write a Joliet tree (Windows names). Symlinks cannot be in it: libisofs leaves them out with a warning.
    public var joliet = true
    /// Write Rock Ridge file serial numbers (RRIP 1.12 PX "inode" numbers). libisofs hands them out in
    /// an order that depends on memory addresses and host inode numbers, so an image that has them is
    /// not byte-reproducible; without them the Rock Ridge data follows RRIP 1.10 (Linux and GRUB read
    /// both; neither uses the numbers).
    public var fileSerialNumbers = true
    public var relaxations: Relaxations = []
    /// The volume creation and modification time (seconds since the epoch), recorded exactly and in
    /// GMT; `nil` records the time of writing.
    public var volumeTimestamp: Int64?
    public var nodeTimes = NodeTimes.keep
    /// Keep each node's permissions (libisofs would otherwise substitute defaults).
    public var keepPermissions = true
    /// Keep each node's uid and gid.
    public var keepOwnership = true
    /// Record times in GMT rather than the local time zone.
    public var alwaysGMT = true
    /// El Torito boot entries, applied to the image for this write only; `nil` writes no catalog.
    public var elTorito: ElToritoCatalog?
    /// MBR template, partition offset and appended partitions; `nil` leaves the system area zero.
    public var systemArea: SystemArea?

    public init(isoLevel: Int = 3, rockRidge: Bool = true, joliet: Bool = true, fileSerialNumbers: Bool = true,
                relaxations: Relaxations = [], volumeTimestamp: Int64? = nil, nodeTimes: NodeTimes = .keep,
                keepPermissions: Bool = true, keepOwnership: Bool = true, alwaysGMT: Bool = true,
                elTorito: ElToritoCatalog? = nil, systemArea: SystemArea? = nil) {
        self.isoLevel = isoLevel
        self.rockRidge = rockRidge
        self.joliet = joliet
        self.fileSerialNumbers = fileSerialNumbers
        self.relaxations = relaxations
        self.volumeTimestamp = volumeTimestamp
        self.nodeTimes = nodeTimes
        self.keepPermissions = keepPermissions
        self.keepOwnership = keepOwnership
        self.alwaysGMT = alwaysGMT
        self.elTorito = elTorito
        self.systemArea = systemArea
    }

    /// Options whose output depends only on the image's contents: volume and node times fixed to
    /// `epoch` (for example SOURCE_DATE_EPOCH), no Rock Ridge file serial numbers.
    public static func reproducible(epoch: Int64) -> ISOWriteOptions {
        ISOWriteOptions(fileSerialNumbers: false, volumeTimestamp: epoch, nodeTimes: .replace(with: epoch))
    }

    /// The volume "uuid" libisofs writes as creation and modification time: YYYYMMDDhhmmss00 in GMT.
    static func volumeUUID(_ epoch: Int64) -> String {
        var time = time_t(epoch)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))00"
    }

    /// Creates libisofs write options; the caller frees them with `iso_write_opts_free`.
    func makeLibraryOptions(path: String) throws(ISOError) -> OpaquePointer {
        guard (1...3).contains(isoLevel) else {
            throw ISOError(operation: .prepareWrite, path: path, message: "ISO level \(isoLevel) is not 1, 2 or 3")
        }
        if let volumeTimestamp, !(0...253_402_300_799).contains(volumeTimestamp) {
            throw ISOError(operation: .prepareWrite, path: path,
                           message: "volume time \(volumeTimestamp) is outside years 1970...9999")
        }
        var created: OpaquePointer?
        // Profile 1 keeps modes, owners and times; everything that matters is set explicitly below.
        let rc = iso_write_opts_new(&created, 1)
        guard rc >= 0, let options = created else { throw .library(.prepareWrite, path: path, code: rc) }
        do throws(ISOError) {
            func check(_ rc: Int32) throws(ISOError) {
                if rc < 0 { throw .library(.prepareWrite, path: path, code: rc) }
            }
            try check(iso_write_opts_set_iso_level(options, Int32(isoLevel)))
            try check(iso_write_opts_set_rockridge(options, rockRidge ? 1 : 0))
            try check(iso_write_opts_set_joliet(options, joliet ? 1 : 0))
            try check(iso_write_opts_set_rrip_version_1_10(options, fileSerialNumbers ? 0 : 1))
            try check(iso_write_opts_set_rrip_1_10_px_ino(options, 0))
            try check(iso_write_opts_set_omit_version_numbers(options, relaxations.contains(.omitVersionNumbers) ? 1 : 0))
            try check(iso_write_opts_set_allow_deep_paths(options, relaxations.contains(.allowDeepPaths) ? 1 : 0))
            try check(iso_write_opts_set_allow_longer_paths(options, relaxations.contains(.allowLongerPaths) ? 1 : 0))
            try check(iso_write_opts_set_max_37_char_filenames(options, relaxations.contains(.max37CharFilenames) ? 1 : 0))
            try check(iso_write_opts_set_no_force_dots(options, relaxations.contains(.noForceDots) ? 1 : 0))
            try check(iso_write_opts_set_allow_lowercase(options, relaxations.contains(.allowLowercase) ? 1 : 0))
            try check(iso_write_opts_set_allow_full_ascii(options, relaxations.contains(.allowFullASCII) ? 1 : 0))
            try check(iso_write_opts_set_joliet_longer_paths(options, relaxations.contains(.jolietLongerPaths) ? 1 : 0))
            try check(iso_write_opts_set_joliet_long_names(options, relaxations.contains(.jolietLongNames) ? 1 : 0))
            try check(iso_write_opts_set_replace_mode(options, keepPermissions ? 0 : 1, keepPermissions ? 0 : 1,
                                                      keepOwnership ? 0 : 1, keepOwnership ? 0 : 1))
            switch nodeTimes {
            case .keep:
                try check(iso_write_opts_set_replace_timestamps(options, 0))
            case .replace(let epoch):
                try check(iso_write_opts_set_replace_timestamps(options, 2))
                try check(iso_write_opts_set_default_timestamp(options, time_t(epoch)))
            }
            // Directory records of all trees carry each node's mtime, not the time of writing.
            try check(iso_write_opts_set_dir_rec_mtime(options, 7))
            try check(iso_write_opts_set_always_gmt(options, alwaysGMT ? 1 : 0))
            if let volumeTimestamp {
                let uuid = Self.volumeUUID(volumeTimestamp)
                let stamp = time_t(volumeTimestamp)
                try check(withMutableCString(uuid) { iso_write_opts_set_pvd_times(options, stamp, stamp, 0, 0, $0) })
            }
            if let systemArea {
                try systemArea.apply(to: options, volumeTimestamp: volumeTimestamp, elTorito: elTorito, path: path)
            }
        } catch {
            iso_write_opts_free(options)
            throw error
        }
        return options
    }
}

/// How far a write has come.
public struct ISOWriteProgress: Sendable, Hashable {
    /// Bytes written to the output so far.
    public var bytesWritten: UInt64
    /// The size the image will have.
    public var totalBytes: UInt64

    public init(bytesWritten: UInt64, totalBytes: UInt64) {
        self.bytesWritten = bytesWritten
        self.totalBytes = totalBytes
    }
}
