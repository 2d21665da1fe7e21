import ArchiveKit

/// The `ar` container of a `.deb`, read through libarchive: "!<arch>\n", then members (`debian-binary`,
/// `control.tar.*`, `data.tar.*`, optional `_`-prefixed ones such as signatures), one at a time, each readable
/// as a stream. Nothing is loaded whole.
///
/// libarchive reads a member header it cannot complete as the end of the archive, and does not compare a
/// member's size with the file's: both are checked here against the bytes it consumed, so a cut file is
/// reported as truncated, naming the member. Not thread-safe.
final class DebianContainer: ByteSource {
    /// One member: its name ("data.tar.xz", without GNU ar's trailing "/") and data size.
    struct Member: Sendable, Hashable {
        var name: String
        var size: Int64
    }

    static let magic = Array("!<arch>\n".utf8)
    /// A .deb has three members (plus optional `_`-prefixed ones).
    static let memberLimit = 64

    let path: String
    /// The member whose data `read(into:)` returns.
    private(set) var current: Member?
    private let reader: ArchiveReader
    private let fileSize: Int64
    private var memberCount = 0
    /// Bytes `peek(_:)` took from the current member, served again by `read(into:)` first.
    private var peeked: [UInt8] = []

    /// Opens the package at `path` and checks its ar magic.
    /// - Throws: `PackageError.unreadable` naming `path`, `.notAPackage` without the ar magic.
    init(path: String) throws(PackageError) {
        let file = try PackageFileHandle(path: path)
        let start = try file.bytes(at: 0, count: Int(min(Int64(Self.magic.count), file.size)), what: "the ar magic")
        guard start == Self.magic else {
            throw .notAPackage(path: path, reason: "no ar archive magic (\"!<arch>\"): starts with \(hex(start))")
        }
        self.path = path
        self.fileSize = file.size
        do {
            reader = try ArchiveReader(path: path, mode: .archive([.ar]))
        } catch {
            throw .corrupt(path: path, reason: "ar archive: \(Self.message(of: error))")
        }
    }

    /// The next member's header, or nil after the last.
    /// - Throws: `PackageError.truncated` when the file ends inside a member or its header, `.corrupt` for a
    ///   malformed header or a member that is not a plain file.
    func next() throws(PackageError) -> Member? {
        let previous = current?.name
        current = nil
        peeked = []
        let entry: ArchiveEntry?
        do {
            entry = try reader.next()
        } catch {
            let place = previous.map { "after member \"\($0)\"" } ?? "at the first member"
            throw .corrupt(path: path, reason: "ar member header \(place): \(Self.message(of: error))")
        }
        let consumed = reader.compressedBytesRead
        guard let entry else {
            // A member's data is padded to an even length; anything more left over is a header cut short.
            if fileSize - consumed > 1 {
                throw .truncated(path: path, reason: "the file ends inside the ar member header at byte \(consumed)")
            }
            return nil
        }
        memberCount += 1
        guard memberCount <= Self.memberLimit else {
            throw .corrupt(path: path, reason: "more than \(Self.memberLimit) ar members")
        }
        guard entry.kind == .regular, entry.hardlinkTarget == nil else {
            throw .corrupt(path: path, reason: "ar member \"\(entry.path)\" is not a plain file")
        }
        guard entry.size <= fileSize - consumed else {
            throw .truncated(path: path, reason: "ar member \"\(entry.path)\" claims \(entry.size) bytes from byte \(consumed), "
                + "but the file ends after \(fileSize)")
        }
        let member = Member(name: entry.path, size: entry.size)
        current = member
        return member
    }

    /// The first `count` bytes of the current member (fewer if it is shorter), without consuming them.
    func peek(_ count: Int) throws(PackageError) -> [UInt8] {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
        defer { chunk.deallocate() }
        while peeked.count < count {
            let got = try readMember(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0 ..< (count - peeked.count)]))
            if got == 0 { break }
            peeked += chunk[0 ..< got]
        }
        return Array(peeked.prefix(count))
    }

    /// Reads up to `buffer.count` bytes of the current member; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(PackageError) -> Int {
        guard !peeked.isEmpty else { return try readMember(into: buffer) }
        let count = min(buffer.count, peeked.count)
        peeked.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0 ..< count])) }
        peeked.removeFirst(count)
        return count
    }

    private func readMember(into buffer: UnsafeMutableRawBufferPointer) throws(PackageError) -> Int {
        guard let current else { return 0 }
        do {
            return try reader.read(into: buffer)
        } catch {
            throw .corrupt(path: path, reason: "ar member \"\(current.name)\": \(Self.message(of: error))")
        }
    }

    /// libarchive's own words, without the input name PackageError adds in front.
    private static func message(of error: any Error) -> String {
        (error as? ArchiveError)?.message ?? "\(error)"
    }
}
