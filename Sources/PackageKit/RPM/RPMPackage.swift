import ArchiveKit

/// An `.rpm` file: its metadata and file list from the main header, and its payload as a stream.
///
/// Layout: a 96-byte lead, the signature header (padded to 8 bytes), the main header, then the payload: a
/// compressed newc cpio whose paths start with `./`. Opening reads the headers only; `payload()` streams the
/// files without loading them.
public struct RPMPackage: Sendable, Hashable {
    /// The package file.
    public let path: String
    public let metadata: PackageMetadata
    /// The header's file list, in header order.
    public let files: [RPMFile]
    /// The payload's compression, as the header declares it (checked against the payload's first bytes).
    public let payloadCompression: PackageCompression
    /// Where the payload starts in the file.
    public let payloadOffset: Int64
    /// The uncompressed payload's size as the headers declare it (ARCHIVESIZE), checked while it is read.
    let declaredPayloadSize: Int64?

    // rpm's own limits (lib/header.c): the signature header is small, the main header at most 256 MiB.
    static let signatureLimits = (entries: 32, store: 64 << 20)
    static let mainLimits = (entries: 0xFFFF, store: 0x0FFF_FFFF)
    /// "0707": the start of every cpio header (newc "070701", crc "070702", odc "070707").
    static let cpioMagic = Array("0707".utf8)

    /// Reads and checks the lead and both headers of the package at `path`.
    /// - Throws: `PackageError` naming `path`: `.notAPackage` for a file without RPM magic, `.truncated` when
    ///   it ends inside a header or before the size its signature declares, `.corrupt` for a header entry
    ///   outside its store or a malformed tag, `.unsupported` / `.unsupportedCompression` for payloads this
    ///   library does not read.
    public init(path: String) throws(PackageError) {
        let file = try PackageFileHandle(path: path)
        _ = try RPMLead(file: file)
        let signature = try RPMHeader(file: file, at: Int64(RPMLead.size), role: "signature header",
                                      maxEntries: Self.signatureLimits.entries, maxStore: Self.signatureLimits.store)
        let signatureEnd = signature.fileOffset + signature.byteCount
        let mainOffset = signatureEnd + (8 - signatureEnd % 8) % 8
        let header = try RPMHeader(file: file, at: mainOffset, role: "main header",
                                   maxEntries: Self.mainLimits.entries, maxStore: Self.mainLimits.store)
        try Self.checkDeclaredSize(signature, file: file, mainOffset: mainOffset)
        declaredPayloadSize = try Self.declaredPayloadSize(signature: signature, header: header)

        self.path = path
        payloadOffset = mainOffset + header.byteCount
        files = try Self.files(of: header)
        metadata = try Self.metadata(of: header, files: files)
        payloadCompression = try Self.payloadCompression(of: header, file: file, at: payloadOffset)
    }

    /// A package from parts already read (tests build repositories this way).
    init(path: String, metadata: PackageMetadata, files: [RPMFile] = [], payloadCompression: PackageCompression = .gzip,
         payloadOffset: Int64 = 0) {
        self.path = path
        self.metadata = metadata
        self.files = files
        self.payloadCompression = payloadCompression
        self.payloadOffset = payloadOffset
        declaredPayloadSize = nil
    }

    /// Streams the payload's files, each completed with the owner names of the header's file list.
    /// - Throws: `PackageError` naming the package; reading entries throws `.corrupt` for a damaged payload or
    ///   an entry the header does not list.
    public func payload() throws(PackageError) -> PackagePayloadReader {
        let file = try PackageFileHandle(path: path)
        var listed: [String: RPMFile] = [:]
        for file in files { listed[file.path] = file }
        let path = self.path
        return try PackagePayloadReader(
            path: path, member: "payload", source: PackageFileRange(file, from: payloadOffset, to: file.size),
            format: .cpioNewc, compression: payloadCompression,
            declaredSize: declaredPayloadSize.map { ($0, "the headers' ARCHIVESIZE") }) { entry throws(PackageError) in
            guard let record = listed[entry.path] else {
                throw .corrupt(path: path, reason: "payload: \(entry.path) is not in the header's file list")
            }
            if let kind = record.kind, kind != entry.kind {
                throw .corrupt(path: path, reason: "payload: \(entry.path) is a \(entry.kind.rawValue), the header lists a \(kind.rawValue)")
            }
            var entry = entry
            entry.userName = record.userName ?? entry.userName
            entry.groupName = record.groupName ?? entry.groupName
            return entry
        }
    }

    /// The signature's SIZE (or LONGSIZE) is the main header plus payload: a shorter file was cut, a longer one
    /// carries bytes no signature covers.
    private static func checkDeclaredSize(_ signature: RPMHeader, file: PackageFileHandle,
                                          mainOffset: Int64) throws(PackageError) {
        var declared = try signature.integers(tagNumber: RPMSignatureTag.longSize.rawValue, name: "LONGSIZE")?.first
        if declared == nil { declared = try signature.integers(tagNumber: RPMSignatureTag.size.rawValue, name: "SIZE")?.first }
        guard let declared, declared > 0 else { return }
        let (end, overflow) = mainOffset.addingReportingOverflow(declared)
        guard !overflow, end <= file.size else {
            throw .truncated(path: file.path, reason: "the signature says the header and payload take \(declared) bytes "
                + "from byte \(mainOffset), but the file ends after \(file.size)")
        }
        guard end == file.size else {
            throw .corrupt(path: file.path, reason: "the signature says the header and payload take \(declared) bytes "
                + "from byte \(mainOffset), ending at byte \(end), but the file goes on to \(file.size)")
        }
    }

    /// The uncompressed payload size: the signature's LONGARCHIVESIZE or PAYLOADSIZE, else the main header's
    /// (rpm keeps it in one or the other, by version); when both have one they must agree.
    private static func declaredPayloadSize(signature: RPMHeader, header: RPMHeader) throws(PackageError) -> Int64? {
        var signed = try signature.integers(tagNumber: RPMSignatureTag.longArchiveSize.rawValue, name: "LONGARCHIVESIZE")?.first
        if signed == nil {
            signed = try signature.integers(tagNumber: RPMSignatureTag.payloadSize.rawValue, name: "PAYLOADSIZE")?.first
        }
        var main = try header.integers(.longArchiveSize)?.first
        if main == nil { main = try header.integers(.archiveSize)?.first }
        if let signed, let main, signed != main {
            throw .corrupt(path: header.path, reason: "the signature says the payload unpacks to \(signed) bytes, the "
                + "main header says \(main)")
        }
        guard let declared = signed ?? main else { return nil }
        guard declared >= 0 else {
            throw .corrupt(path: header.path, reason: "the headers declare a payload of \(declared) bytes")
        }
        return declared
    }

    private static func payloadCompression(of header: RPMHeader, file: PackageFileHandle,
                                           at offset: Int64) throws(PackageError) -> PackageCompression {
        let format = try header.string(.payloadFormat) ?? "cpio"
        guard format == "cpio" else {
            throw .unsupported(path: file.path, reason: "payload format \"\(format)\" (only cpio is read)")
        }
        guard offset < file.size else {
            throw .truncated(path: file.path, reason: "no payload after the main header (the file ends at byte \(file.size))")
        }
        let magic = try file.bytes(at: offset, count: Int(min(6, file.size - offset)), what: "the payload")
        // No PAYLOADCOMPRESSOR means gzip, except for an uncompressed payload (`w.ufdio`), which rpm reads
        // through its gzip reader's pass-through: a plain cpio.
        let compressor = try header.string(.payloadCompressor) ?? (magic.starts(with: Self.cpioMagic) ? "none" : "gzip")
        guard let compression = PackageCompression(rpmCompressor: compressor) else {
            throw .unsupportedCompression(path: file.path, compression: compressor)
        }
        let seen = PackageCompression(magic: magic)
        if compression.hasMagic, seen != compression {
            throw .corrupt(path: file.path, reason: "the header declares a \(compressor) payload, but it starts with \(hex(magic))")
        }
        return compression
    }
}
