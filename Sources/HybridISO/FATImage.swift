import Crypto
import Foundation

/// A plan for a small FAT filesystem image built with dosfstools and mtools: label, volume id, files, times
/// and size. The same plan always yields the same bytes.
///
/// How the bytes are made deterministic:
/// - `mkfs.vfat --invariant` fixes the boot sector's time-derived fields; `-i` sets a volume id derived
///   from `volumeIDSeed`;
/// - every file and directory is staged with mtime `epoch` and copied with `mcopy -m` (keep mtime) under
///   `TZ=UTC` (FAT stores local time) and `MTOOLSRC=/dev/null` (no user config);
/// - entries are created in sorted order, one `mcopy` per directory, because `mcopy -s` follows `readdir`
///   order, which depends on the staging filesystem.
public struct FATImage: Sendable {
    /// One file to put in the image.
    public struct File: Sendable, Equatable {
        /// Where the bytes come from.
        public enum Source: Sendable, Equatable {
            case path(String)
            case bytes([UInt8])
        }

        /// Path inside the image, `/`-separated, no leading slash ("EFI/BOOT/BOOTX64.EFI").
        public var path: String
        public var source: Source

        public init(path: String, source: Source) {
            self.path = path
            self.source = source
        }
    }

    /// Where `size` comes from.
    public enum Sizing: Sendable, Equatable {
        /// Computed from the contents (see `requiredSize()`), at least `minimum` bytes.
        case fromContents(minimum: UInt64)
        /// Exactly this many bytes; building fails when the contents need more.
        case fixed(UInt64)
    }

    /// Bytes per sector and per cluster; fixed (`-S 512 -s 4`) so the size computation matches mkfs.
    public static let sectorSize: UInt64 = 512
    public static let clusterSize: UInt64 = 2048
    /// Computed sizes are rounded up to this, so partitions stay MiB-aligned.
    public static let sizeGranularity: UInt64 = 1 << 20

    /// Volume label, 1 to 11 characters of A-Z, 0-9, '-', '_'.
    public var label: String
    /// Seed of the 32-bit volume id (shown as "XXXX-XXXX", the filesystem UUID).
    public var volumeIDSeed: String
    public var files: [File]
    /// Modification time of every file and directory, seconds since 1970 (clamped to FAT's 1980 start).
    public var epoch: Int64
    public var sizing: Sizing

    public init(label: String, volumeIDSeed: String, files: [File], epoch: Int64,
                sizing: Sizing = .fromContents(minimum: 1 << 20)) {
        self.label = label
        self.volumeIDSeed = volumeIDSeed
        self.files = files
        self.epoch = epoch
        self.sizing = sizing
    }

    /// `SOURCE_DATE_EPOCH` when set (reproducible builds), else the current time.
    public static func defaultEpoch(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int64 {
        environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) } ?? Int64(Date().timeIntervalSince1970)
    }

    /// The 32-bit volume id as 8 hex digits (`mkfs.vfat -i`): the first bytes of SHA-256 of the seed.
    public var volumeID: String {
        SHA256.hash(data: Data("emts-iso FAT volume id\0\(volumeIDSeed)".utf8)).prefix(4)
            .map { String(format: "%02X", $0) }.joined()
    }

    /// The image size: the contents' clusters, directories and FAT overhead, plus headroom, rounded up to
    /// `sizeGranularity`; for `.fixed`, that size once the contents are known to fit.
    ///
    /// Conservative on purpose (every name counted with a long-name entry, FAT entries at 4 bytes, 32
    /// reserved sectors, a fixed root directory *and* its clusters), so the image can never be too small
    /// for its contents (mcopy's "Disk full" is still checked when building).
    public func requiredSize() throws(HybridISOError) -> UInt64 {
        let tree = try FATDirectoryTree(files: files, sizes: fileSizes())
        let needed = Self.size(for: tree)
        switch sizing {
        case let .fromContents(minimum):
            return max(needed, Self.roundUp(minimum, to: Self.sizeGranularity))
        case let .fixed(size):
            guard size >= needed else { throw .contentsTooLarge(image: label, needed: needed, size: size) }
            guard size % 1024 == 0 else { throw .invalidPlan("FAT image size \(size) is not a multiple of 1 KiB") }
            return size
        }
    }

    /// Builds the image at `path` (atomically: nothing appears there unless every step succeeded and every
    /// file read back equals its source).
    /// - Returns: the image size in bytes.
    @discardableResult
    public func build(to path: String) throws(HybridISOError) -> UInt64 {
        try build(to: path, size: requiredSize())
    }

    /// Builds with an explicit size, skipping the fit check (tests force "Disk full" with it).
    func build(to path: String, size: UInt64) throws(HybridISOError) -> UInt64 {
        try validateLabel()
        let sizes = try fileSizes()
        let tree = try FATDirectoryTree(files: files, sizes: sizes)
        let scratch = try ScratchDirectory(beside: path)
        let image = scratch.file("fat.img")
        let stage = scratch.file("stage")
        let shells = scratch.file("shells")
        try stageContents(tree, into: stage, shells: shells)

        try ExternalTool.mkfsVFAT.run(
            ["-C", "--invariant", "--mbr=n", "-S", "512", "-s", "\(Self.clusterSize / Self.sectorSize)",
             "-i", volumeID, "-n", label, image, "\(size / 1024)"],
            step: "formatting \(path) (\(size) bytes)")

        for directory in tree.directories {
            let children = tree.children(of: directory)
            guard !children.isEmpty else { continue }
            let sources = children.map { child in
                tree.isDirectory(child) ? shells + "/" + child : stage + "/" + child
            }
            let target = "::/" + directory + (directory.isEmpty ? "" : "/")
            let output = try ExternalTool.mcopy.run(
                ["-i", image, "-s", "-m", "-Q"] + sources + [target],
                step: "copying into \(path) at /\(directory)", environment: Self.mtoolsEnvironment)
            // mcopy has been seen to report a full disk and carry on; never trust the status alone.
            if output.standardError.localizedCaseInsensitiveContains("disk full") {
                throw .toolFailed(tool: "mcopy", step: "copying into \(path) at /\(directory)", status: 0,
                                  output: output.standardError)
            }
        }
        try verify(image: image, displayPath: path, tree: tree)
        try scratch.commit(image, to: path)
        return size
    }

    static let mtoolsEnvironment = ["MTOOLS_SKIP_CHECK": "1", "MTOOLSRC": "/dev/null", "TZ": "UTC",
                                    "LC_ALL": "C"]

    // MARK: - Contents

    private func fileSizes() throws(HybridISOError) -> [String: UInt64] {
        var sizes: [String: UInt64] = [:]
        for file in files {
            switch file.source {
            case let .bytes(bytes):
                sizes[file.path] = UInt64(bytes.count)
            case let .path(source):
                var info = stat()
                guard stat(source, &info) == 0 else {
                    throw .io(path: source, step: "reading \(file.path) for the FAT image",
                              reason: String(cString: strerror(errno)))
                }
                guard info.st_mode & S_IFMT == S_IFREG else {
                    throw .io(path: source, step: "reading \(file.path) for the FAT image", reason: "not a regular file")
                }
                sizes[file.path] = UInt64(info.st_size)
            }
        }
        return sizes
    }

    private func stageContents(_ tree: FATDirectoryTree, into stage: String, shells: String) throws(HybridISOError) {
        let manager = FileManager.default
        let time = TimeInterval(max(epoch, 315_532_800))
        let date = Date(timeIntervalSince1970: time)
        do {
            for directory in tree.directories {
                try manager.createDirectory(atPath: stage + "/" + directory, withIntermediateDirectories: true)
                try manager.createDirectory(atPath: shells + "/" + directory, withIntermediateDirectories: true)
            }
            for file in files {
                let target = stage + "/" + file.path
                switch file.source {
                case let .bytes(bytes): try Data(bytes).write(to: URL(fileURLWithPath: target))
                case let .path(source): try manager.copyItem(atPath: source, toPath: target)
                }
                try manager.setAttributes([.modificationDate: date], ofItemAtPath: target)
            }
            for directory in tree.directories where !directory.isEmpty {
                try manager.setAttributes([.modificationDate: date], ofItemAtPath: shells + "/" + directory)
            }
        } catch {
            throw .io(path: stage, step: "staging the FAT image's files", reason: "\(error)")
        }
    }

    private func verify(image: String, displayPath: String, tree: FATDirectoryTree) throws(HybridISOError) {
        for file in files {
            let expected: Data
            switch file.source {
            case let .bytes(bytes): expected = Data(bytes)
            case let .path(source):
                guard let data = FileManager.default.contents(atPath: source) else {
                    throw .io(path: source, step: "reading \(file.path) to verify the FAT image", reason: "unreadable")
                }
                expected = data
            }
            let readBack: Data
            do {
                readBack = try ExternalTool.mtype.run(["-i", image, "::/" + file.path],
                                                      step: "reading back /\(file.path)",
                                                      environment: Self.mtoolsEnvironment).standardOutput
            } catch {
                throw .verificationFailed(image: displayPath, path: "/" + file.path, reason: "\(error)")
            }
            guard SHA256.hash(data: readBack) == SHA256.hash(data: expected) else {
                throw .verificationFailed(image: displayPath, path: "/" + file.path,
                                          reason: "read back \(readBack.count) bytes differing from the \(expected.count) copied in")
            }
        }
    }

    private func validateLabel() throws(HybridISOError) {
        guard (1...11).contains(label.count),
              label.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw .invalidPlan("FAT label \"\(label)\" must be 1-11 characters of A-Z, 0-9, '-', '_'")
        }
    }

    // MARK: - Size

    static func size(for tree: FATDirectoryTree) -> UInt64 {
        let cluster = clusterSize
        var dataClusters: UInt64 = 0
        for (_, size) in tree.fileSizes { dataClusters += roundUp(size, to: cluster) / cluster }
        for directory in tree.directories {
            // ".", "..", the root's label entry, and per child one short entry plus long-name entries.
            var entries: UInt64 = 2
            for child in tree.children(of: directory) {
                let name = child.split(separator: "/").last.map(String.init) ?? child
                entries += 1 + (UInt64(name.utf16.count) + 12) / 13
            }
            dataClusters += max(1, roundUp(entries * 32, to: cluster) / cluster)
        }
        let headroom = max(64, dataClusters / 16)
        let clusters = dataClusters + headroom
        let fatSectors = roundUp((clusters + 2) * 4, to: sectorSize) / sectorSize
        let rootSectors: UInt64 = 512 * 32 / sectorSize
        let overheadSectors = 32 + 2 * fatSectors + rootSectors + 8
        return roundUp(overheadSectors * sectorSize + clusters * cluster, to: sizeGranularity)
    }

    static func roundUp(_ value: UInt64, to unit: UInt64) -> UInt64 { (value + unit - 1) / unit * unit }
}

/// The directory tree of a FAT plan, validated: directories ("" is the root) and files by path.
struct FATDirectoryTree {
    private(set) var directories: [String] = [""]
    private(set) var fileSizes: [String: UInt64] = [:]
    private var entries: [String: [String]] = [:]

    init(files: [FATImage.File], sizes: [String: UInt64]) throws(HybridISOError) {
        var seen: [String: String] = [:]
        var directorySet: Set<String> = [""]
        for file in files {
            let components = file.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard !components.isEmpty else { throw .invalidPlan("empty FAT path") }
            for component in components { try Self.validate(component, in: file.path) }
            var parent = ""
            for (index, component) in components.enumerated() {
                let path = parent.isEmpty ? component : parent + "/" + component
                let isLast = index == components.count - 1
                if let other = seen[path.uppercased()] {
                    guard other == path, !isLast, directorySet.contains(path) else {
                        throw .invalidPlan("FAT path \(file.path) clashes with \(other) (FAT names ignore case)")
                    }
                } else {
                    seen[path.uppercased()] = path
                    entries[parent, default: []].append(path)
                    if !isLast { directorySet.insert(path) }
                }
                parent = path
            }
            fileSizes[file.path] = sizes[file.path] ?? 0
        }
        directories = directorySet.sorted()
        for key in entries.keys { entries[key]?.sort() }
    }

    func children(of directory: String) -> [String] { entries[directory] ?? [] }
    func isDirectory(_ path: String) -> Bool { directories.contains(path) }

    private static func validate(_ name: String, in path: String) throws(HybridISOError) {
        let forbidden = Set("\\:*?\"<>|")
        guard !name.isEmpty, name != ".", name != "..", name.utf8.count <= 255,
              !name.hasSuffix("."), !name.hasSuffix(" "),
              name.allSatisfy({ $0.isASCII && !forbidden.contains($0) && ($0.asciiValue ?? 0) >= 0x20 })
        else {
            throw .invalidPlan("FAT path \"\(path)\": component \"\(name)\" is not a valid FAT name")
        }
    }
}
