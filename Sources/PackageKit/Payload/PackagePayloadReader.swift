import ArchiveKit

/// Streams the files of a package's payload one at a time: RPM's compressed cpio, or a Debian package's
/// data.tar.
///
/// Nothing is loaded whole: `next()` reads one header, and the entry's data is read (as this reader is a
/// `ByteSource` over the current entry) or skipped before the next. The archive's entry for the root
/// directory itself (`./` in a data.tar) is not reported. Not thread-safe; use one reader per task.
public final class PackagePayloadReader: ByteSource {
    /// Completes or checks a payload entry (RPM adds owner names from its header), or throws.
    typealias EntryMapper = (PackagePayloadEntry) throws(PackageError) -> PackagePayloadEntry

    /// The package file.
    public let path: String
    /// The payload's compression.
    public let compression: PackageCompression
    /// The current entry, between `next()` and the following `next()`.
    public private(set) var current: PackagePayloadEntry?

    private let archive: ArchiveReader
    private let member: String
    private let mapEntry: EntryMapper
    private var failure: PackageError?
    private var finished = false
    /// The uncompressed payload's size as the package declares it, and who declares it.
    private let declaredSize: (bytes: Int64, source: String)?

    /// Reads `source` as an archive of `format`; `member` names the payload in errors ("payload",
    /// "data.tar.xz"); `mapEntry` completes or checks each entry (RPM adds owner names from its header).
    /// `declaredSize`: what the payload must unpack to exactly (RPM's ARCHIVESIZE); reading stops as soon as
    /// it goes past it.
    init(path: String, member: String, source: any ByteSource, format: ArchiveFormat,
         compression: PackageCompression, declaredSize: (bytes: Int64, source: String)? = nil,
         mapEntry: @escaping EntryMapper = { entry throws(PackageError) in entry })
        throws(PackageError) {
        self.path = path
        self.declaredSize = declaredSize
        self.compression = compression
        self.member = member
        self.mapEntry = mapEntry
        do {
            archive = try ArchiveReader(source: source, name: "\(path) (\(member))", mode: .archive([format]))
        } catch {
            throw Self.translate(error, path: path, member: member)
        }
    }

    /// The next entry, or nil after the last. After an error the reader stays failed.
    /// - Throws: `PackageError.corrupt` naming the package for a damaged payload or an unsafe path.
    public func next() throws(PackageError) -> PackagePayloadEntry? {
        if let failure { throw failure }
        if finished { return nil }
        do throws(PackageError) {
            while true {
                let raw: ArchiveEntry?
                do { raw = try archive.next() } catch { throw Self.translate(error, path: path, member: member) }
                try checkDeclaredSize(atEnd: raw == nil)
                guard let raw else {
                    current = nil
                    finished = true
                    return nil
                }
                if let declaredSize, raw.size > declaredSize.bytes {
                    throw PackageError.corrupt(path: self.path, reason: "\(member): \(raw.path) declares \(raw.size) bytes, "
                        + "more than the whole payload's \(declaredSize.bytes) (\(declaredSize.source))")
                }
                guard let path = PackagePath.normalize(raw.path) else {
                    throw PackageError.corrupt(path: self.path, reason: "\(member): unsafe entry path \"\(raw.path)\"")
                }
                if path == "/", raw.kind == .directory { continue }
                var hardlink: String?
                if let target = raw.hardlinkTarget {
                    guard let normalized = PackagePath.normalize(target) else {
                        throw PackageError.corrupt(path: self.path,
                                                   reason: "\(member): \(path): unsafe hard link target \"\(target)\"")
                    }
                    hardlink = normalized
                }
                let entry = try mapEntry(PackagePayloadEntry(
                    path: path, kind: raw.kind, permissions: raw.permissions, uid: raw.uid, gid: raw.gid,
                    userName: raw.userName, groupName: raw.groupName, mtime: raw.mtime,
                    // cpio stores a symlink's target as its data; only regular files have data here.
                    size: raw.kind == .regular ? raw.size : 0,
                    symlinkTarget: raw.symlinkTarget, hardlinkTarget: hardlink,
                    deviceMajor: raw.deviceMajor, deviceMinor: raw.deviceMinor, xattrs: raw.xattrs))
                current = entry
                return entry
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Reads up to `buffer.count` bytes of the current entry's data; 0 at the end of the entry.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(PackageError) -> Int {
        if let failure { throw failure }
        if current == nil { return 0 }
        do {
            let count = try archive.read(into: buffer)
            try checkDeclaredSize(atEnd: false)
            return count
        } catch let error as PackageError {
            failure = error
            throw error
        } catch {
            let failure = Self.translate(error, path: path, member: member)
            self.failure = failure
            throw failure
        }
    }

    /// Reads the rest of the current entry's data into memory, refusing more than `limit` bytes.
    public func readAll(limit: Int = 64 << 20) throws(PackageError) -> [UInt8] {
        let entry = current?.path ?? member
        do {
            return try readAll(limit: limit) { PackageError.entryTooLarge(path: path, entry: entry, limit: limit) }
        } catch let error as PackageError {
            throw error
        } catch {
            throw Self.translate(error, path: path, member: member)
        }
    }

    /// Skips the rest of the current entry's data.
    public func skipData() throws(PackageError) {
        if let failure { throw failure }
        if current == nil { return }
        do {
            try archive.skipData()
        } catch {
            let failure = Self.translate(error, path: path, member: member)
            self.failure = failure
            throw failure
        }
    }

    /// Non-fatal messages libarchive reported while reading.
    public var warnings: [String] { archive.warnings }

    /// The payload may not unpack to more than it declares, and at its end must have unpacked to exactly that.
    private func checkDeclaredSize(atEnd: Bool) throws(PackageError) {
        guard let declaredSize else { return }
        let unpacked = archive.uncompressedBytesRead
        if unpacked > declaredSize.bytes {
            throw .corrupt(path: path, reason: "\(member): unpacks to more than the \(declaredSize.bytes) bytes "
                + "\(declaredSize.source) declares")
        }
        if atEnd, unpacked != declaredSize.bytes {
            throw .corrupt(path: path, reason: "\(member): unpacks to \(unpacked) bytes, but \(declaredSize.source) "
                + "declares \(declaredSize.bytes)")
        }
    }

    /// Errors of the archive layer, in the package's terms: a read failure stays one, anything else means the
    /// payload is damaged.
    static func translate(_ error: any Error, path: String, member: String) -> PackageError {
        if let error = error as? PackageError { return error }
        if let error = error as? ArchiveError { return .corrupt(path: path, reason: "\(member): \(error.message)") }
        if let error = error as? CpioHeaderError { return .corrupt(path: path, reason: "\(member): \(error.message)") }
        return .corrupt(path: path, reason: "\(member): \(error)")
    }
}
