import ArchiveKit

/// A `.deb` file: its control information, and its data archive as a stream.
///
/// Layout: an ar archive of `debian-binary` ("2.0"), `control.tar[.gz|.xz|.zst]` and
/// `data.tar[.gz|.xz|.zst|.bz2|.lzma]`. Opening reads the control archive (small, bounded); `payload()`
/// streams the data archive without loading it.
public struct DebianPackage: Sendable, Hashable {
    /// The package file.
    public let path: String
    public let metadata: PackageMetadata
    /// The `control` file's paragraph, with its raw text (for dpkg's status database).
    public let control: DebianControlParagraph
    /// Every regular file of the control archive by name: `control`, `md5sums`, `conffiles`, maintainer
    /// scripts (what dpkg keeps in `/var/lib/dpkg/info/<package>.<name>`).
    public let controlFiles: [String: [UInt8]]
    /// The control archive's member name (`control.tar.xz`) and compression.
    public let controlMember: String
    public let controlCompression: PackageCompression
    /// The data archive's member name (`data.tar.zst`) and compression.
    public let dataMember: String
    public let dataCompression: PackageCompression

    /// Bounds on what the control archive may make this reader hold in memory.
    static let controlFileLimit = 16 << 20
    static let controlTotalLimit = 64 << 20

    /// Reads the ar layout and the control archive of the package at `path`.
    /// - Throws: `PackageError` naming `path`: `.notAPackage` without ar magic or `debian-binary`,
    ///   `.truncated` when a member runs past the end, `.corrupt` for a missing member, a damaged control
    ///   archive or control file, `.unsupportedCompression` for a member suffix this library does not read.
    public init(path: String) throws(PackageError) {
        let container = try DebianContainer(path: path)
        guard let first = try container.next(), first.name == "debian-binary" else {
            throw .notAPackage(path: path, reason: "an ar archive whose first member is not debian-binary")
        }
        let formatVersion = String(decoding: try container.peek(16), as: UTF8.self).trimmedBlanks
        guard !formatVersion.isEmpty else {
            throw .corrupt(path: path, reason: "debian-binary holds no format version (is its ar member size damaged?)")
        }
        guard formatVersion.hasPrefix("2.") else {
            throw .unsupported(path: path, reason: "deb format version \"\(formatVersion)\" (2.x is read)")
        }
        var control: (name: String, compression: PackageCompression, files: [String: [UInt8]])?
        var data: (name: String, compression: PackageCompression)?
        while let member = try container.next() {
            if member.name.hasPrefix("_") { continue }
            if control == nil, let compression = try Self.compression(of: member, prefix: "control.tar", in: container) {
                control = (member.name, compression, try Self.controlFiles(container: container, member: member.name,
                                                                            compression: compression))
            } else if data == nil, let compression = try Self.compression(of: member, prefix: "data.tar", in: container) {
                data = (member.name, compression)
            }
        }
        guard let control else { throw .corrupt(path: path, reason: "no control.tar member") }
        guard let data else { throw .corrupt(path: path, reason: "no data.tar member") }
        guard let controlBytes = control.files["control"] else {
            throw .corrupt(path: path, reason: "\(control.name) has no control file")
        }
        let paragraphs: [DebianControlParagraph]
        do {
            paragraphs = try DebianControlParagraph.parse(String(decoding: controlBytes, as: UTF8.self))
        } catch {
            throw .corrupt(path: path, reason: "control file: \(error)")
        }
        guard let paragraph = paragraphs.first else { throw .corrupt(path: path, reason: "the control file is empty") }

        self.path = path
        self.control = paragraph
        self.controlFiles = control.files
        self.controlMember = control.name
        self.controlCompression = control.compression
        self.dataMember = data.name
        self.dataCompression = data.compression
        self.metadata = try Self.metadata(of: paragraph, path: path)
    }

    /// A package from parts already read (tests build repositories this way).
    init(path: String, metadata: PackageMetadata, control: DebianControlParagraph = DebianControlParagraph(fields: [], text: ""),
         controlFiles: [String: [UInt8]] = [:]) {
        self.path = path
        self.metadata = metadata
        self.control = control
        self.controlFiles = controlFiles
        self.controlMember = "control.tar.xz"
        self.controlCompression = .xz
        self.dataMember = "data.tar.xz"
        self.dataCompression = .xz
    }

    /// The `md5sums` control file's text, when the package has one.
    public var md5sums: String? { controlFiles["md5sums"].map { String(decoding: $0, as: UTF8.self) } }

    /// The paths the `conffiles` control file lists (empty when it has none).
    public var conffiles: [String] {
        guard let bytes = controlFiles["conffiles"] else { return [] }
        return String(decoding: bytes, as: UTF8.self).lineList.map(\.trimmedBlanks).filter { !$0.isEmpty }
    }

    /// Streams the data archive's files.
    /// - Throws: `PackageError` naming the package; reading entries throws `.corrupt` for a damaged archive.
    public func payload() throws(PackageError) -> PackagePayloadReader {
        let container = try DebianContainer(path: path)
        while let member = try container.next() {
            guard member.name == dataMember else { continue }
            return try PackagePayloadReader(path: path, member: dataMember, source: container, format: .tarGNU,
                                            compression: dataCompression)
        }
        throw .corrupt(path: path, reason: "no \(dataMember) member (did the file change since it was opened?)")
    }

    /// The compression of `member` if it is the archive `prefix` ("control.tar", "data.tar"), checked against
    /// its first bytes; nil when it is another member.
    private static func compression(of member: DebianContainer.Member, prefix: String,
                                    in container: DebianContainer) throws(PackageError) -> PackageCompression? {
        guard member.name == prefix || member.name.hasPrefix(prefix + ".") else { return nil }
        let suffix = String(member.name.dropFirst(prefix.count))
        guard let compression = PackageCompression(debianSuffix: suffix) else {
            throw .unsupportedCompression(path: container.path, compression: member.name)
        }
        let magic = try container.peek(6)
        if compression.hasMagic, PackageCompression(magic: magic) != compression {
            throw .corrupt(path: container.path,
                           reason: "\(member.name) does not start with \(compression.rawValue) magic: \(hex(magic))")
        }
        return compression
    }

    /// The regular files of the control archive (the container's current member), each and all together
    /// bounded.
    private static func controlFiles(container: DebianContainer, member: String,
                                     compression: PackageCompression) throws(PackageError) -> [String: [UInt8]] {
        let path = container.path
        let reader = try PackagePayloadReader(path: path, member: member, source: container, format: .tarGNU,
                                              compression: compression)
        var files: [String: [UInt8]] = [:]
        var total = 0
        while let entry = try reader.next() {
            guard entry.kind == .regular else { continue }
            let name = String(entry.path.dropFirst())
            guard entry.size <= Int64(controlFileLimit), total + Int(entry.size) <= controlTotalLimit else {
                throw .entryTooLarge(path: path, entry: "\(member): \(name)", limit: controlFileLimit)
            }
            let bytes = try reader.readAll(limit: controlFileLimit)
            total += bytes.count
            files[name] = bytes
        }
        return files
    }

    private static func metadata(of control: DebianControlParagraph, path: String) throws(PackageError) -> PackageMetadata {
        func required(_ field: String) throws(PackageError) -> String {
            guard let value = control[field]?.trimmedBlanks, !value.isEmpty else {
                throw .corrupt(path: path, reason: "the control file has no \(field) field")
            }
            return value
        }
        let name = try required("Package")
        let version = PackageVersion(parsing: try required("Version"), format: .deb)
        let architecture = try required("Architecture")
        do {
            let provides = try DebianRelations.provides(control["Provides"] ?? "")
            let requirements = try DebianRelations.requirements(control["Pre-Depends"] ?? "", kind: .preDepends)
                + DebianRelations.requirements(control["Depends"] ?? "", kind: .depends)
            return PackageMetadata(format: .deb, name: name, version: version, architecture: architecture,
                                   provides: provides, requirements: requirements)
        } catch {
            throw .corrupt(path: path, reason: "control file: \(error.message)")
        }
    }
}
