/// The 96-byte lead that starts every .rpm file. Only its magic, format version, package type and signature
/// type matter today: everything else moved into the headers long ago.
struct RPMLead {
    static let size = 96
    static let magic: [UInt8] = [0xED, 0xAB, 0xEE, 0xDB]
    /// `RPMSIGTYPE_HEADERSIG`: a signature header follows the lead (the only kind rpm 4 writes).
    static let headerSignature: UInt16 = 5

    let majorVersion: UInt8
    let isSource: Bool

    /// - Throws: `PackageError.notAPackage` for a wrong magic, `.truncated` for a file shorter than the lead,
    ///   `.unsupported` for a source package or an old format.
    init(file: PackageFileHandle) throws(PackageError) {
        // The magic first: a short file that is not an RPM at all is told so, not called truncated.
        let head = try file.bytes(at: 0, count: Int(min(file.size, 4)), what: "the RPM lead")
        guard head == Self.magic else {
            throw .notAPackage(path: file.path, reason: "RPM lead magic is \(head.isEmpty ? "missing (empty file)" : hex(head)), expected ed ab ee db")
        }
        let bytes = try file.bytes(at: 0, count: Self.size, what: "the RPM lead")
        majorVersion = bytes[4]
        guard majorVersion == 3 || majorVersion == 4 else {
            throw .unsupported(path: file.path, reason: "RPM format version \(majorVersion) (3 and 4 are read)")
        }
        let type = UInt16(bytes[6]) << 8 | UInt16(bytes[7])
        isSource = type == 1
        guard !isSource else { throw .unsupported(path: file.path, reason: "a source package (.src.rpm)") }
        let signatureType = UInt16(bytes[78]) << 8 | UInt16(bytes[79])
        guard signatureType == Self.headerSignature else {
            throw .unsupported(path: file.path, reason: "signature type \(signatureType) (only header signatures, type 5, are read)")
        }
    }
}
