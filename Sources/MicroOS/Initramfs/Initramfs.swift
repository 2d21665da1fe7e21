import ArchiveKit

/// Whole-file questions about an initramfs, answered in one streaming pass.
public enum Initramfs {
    /// Where the µOS keeps its root filesystem inside the initramfs.
    public static let rootfsName = "rootfs.tar.gz"

    /// Reads every header (skipping data) and returns where the segments lie.
    /// - Throws: `InitramfsError` naming the path, segment and offset of the problem.
    public static func scan(path: String) throws -> InitramfsLayout {
        let reader = try InitramfsReader(path: path)
        while try reader.next() != nil {}
        return reader.layout!
    }

    /// Finds the entry named `name` (with or without a leading "./" or "/"). When several segments carry it,
    /// the last one wins, as when the kernel unpacks them. Returns nil when no entry has that name.
    /// - Throws: `InitramfsError` for a damaged initramfs: the whole file is checked.
    public static func find(path: String, name: String = rootfsName) throws -> InitramfsEntryLocation? {
        let wanted = normalizedName(name)
        let reader = try InitramfsReader(path: path)
        var found: InitramfsEntryLocation?
        while let item = try reader.next() {
            guard normalizedName(item.entry.path) == wanted else { continue }
            found = InitramfsEntryLocation(segment: item.segment, archive: item.archive, compression: item.compression,
                                           entry: item.entry, occurrences: (found?.occurrences ?? 0) + 1)
        }
        return found
    }

    /// An entry name as the kernel resolves it: "./x", "/x" and "x" are the same file.
    public static func normalizedName(_ name: String) -> String {
        var result = Substring(name)
        while true {
            if result.hasPrefix("./") {
                result = result.dropFirst(2)
            } else if result.hasPrefix("/") {
                result = result.dropFirst()
            } else {
                break
            }
        }
        return result.isEmpty || result == "." ? "." : String(result)
    }
}

/// Where `Initramfs.find` found an entry.
public struct InitramfsEntryLocation: Sendable, Hashable {
    public var segment: Int
    public var archive: Int
    public var compression: ArchiveFilter
    /// The header of the last occurrence (its `size` is the data size).
    public var entry: ArchiveEntry
    /// How many times the name occurs in the initramfs (later ones overwrite earlier ones).
    public var occurrences: Int

    public var size: Int64 { entry.size }
}
