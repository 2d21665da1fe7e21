import Foundation

/// The EMT OS raw image on the medium: `/images/<name>.raw.gz|.raw.zst|.raw.xz` with its checksum in
/// `/images/<name>.raw.gz.sha256` (as emts-iso writes it; `/images/<name>.sha256` is accepted too), in
/// sha256sum's format, `<hex>  <file name>`.
public struct OSImage: Sendable, Equatable, Codable {
    /// The folder on the medium that holds images.
    public static let directory = "/images"

    /// The file name (`emt-s-3.0.raw.gz`).
    public var name: String
    /// Where it can be read (inside the mounted medium).
    public var path: String
    public var compression: ImageCompression
    /// The compressed file's size.
    public var compressedBytes: UInt64
    /// The sha256 the checksum file gives, lower-case hex.
    public var expectedSHA256: String
    /// The checksum file's path.
    public var checksumPath: String

    public init(name: String, path: String, compression: ImageCompression, compressedBytes: UInt64,
                expectedSHA256: String, checksumPath: String) {
        self.name = name
        self.path = path
        self.compression = compression
        self.compressedBytes = compressedBytes
        self.expectedSHA256 = expectedSHA256
        self.checksumPath = checksumPath
    }

    /// Finds the image in `directory` (the medium's `/images`): the one named `wanted` (with or without its
    /// `.raw.*` ending), or else the only image there. Checks its checksum file and its first bytes.
    /// - Throws: `BootMediumError` when there is no image, the named one is missing, several are there and
    ///   none is named, or the checksum file is missing or malformed; `ImageError` when the image's first
    ///   bytes are not its named compression.
    public static func find(in directory: String, named wanted: String?) throws(BootMediumError) -> OSImage {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let images = names.filter { ImageCompression(fileName: $0) != nil }
        let name: String
        if let wanted {
            guard let match = images.first(where: { $0 == wanted })
                    ?? images.first(where: { $0.strippingImageSuffix == wanted }) else {
                throw .imageNotFound(directory: directory, name: wanted, available: images)
            }
            name = match
        } else {
            guard let only = images.first else { throw .noImage(directory: directory) }
            guard images.count == 1 else { throw .severalImages(directory: directory, names: images) }
            name = only
        }
        guard let compression = ImageCompression(fileName: name) else { throw .noImage(directory: directory) }
        let path = directory + "/" + name
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = (attributes?[.size] as? NSNumber)?.uint64Value, attributes?[.type] as? FileAttributeType == .typeRegular
        else {
            throw .imageUnreadable(path: path, reason: "not a regular file")
        }
        // emts-iso writes `<file>.sha256`; `<name>.sha256` without the `.raw.*` ending is accepted too.
        let checksumPath = path + ".sha256"
        let alternative = directory + "/" + name.strippingImageSuffix + ".sha256"
        let chosenChecksum = FileManager.default.fileExists(atPath: alternative)
            && !FileManager.default.fileExists(atPath: checksumPath) ? alternative : checksumPath
        let expected = try readChecksum(chosenChecksum, imageName: name)
        let image = OSImage(name: name, path: path, compression: compression, compressedBytes: size,
                            expectedSHA256: expected, checksumPath: chosenChecksum)
        try image.checkMagic()
        return image
    }

    /// Parses sha256sum output for `imageName`: `<64 hex>  <name>` or `<64 hex> *<name>`, or a bare digest.
    static func readChecksum(_ path: String, imageName: String) throws(BootMediumError) -> String {
        guard let text = SysfsFiles.contents(path, limit: 64 << 10) else {
            throw .checksumMissing(path: path, image: imageName)
        }
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
            guard let digest = fields.first.map({ String($0).lowercased() }), !digest.hasPrefix("#") else { continue }
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw .checksumMalformed(path: path, reason: "\"\(line.prefix(80))\" does not start with a sha256 (64 hex digits)")
            }
            if fields.count == 2 {
                var named = String(fields[1]).trimmingWhitespace
                if named.hasPrefix("*") { named.removeFirst() }
                let base = (named as NSString).lastPathComponent
                guard base == imageName else { continue }
            }
            return digest
        }
        throw .checksumMalformed(path: path, reason: "no sha256 line for \(imageName)")
    }

    /// Checks that the file starts as its name's compression says.
    /// - Throws: `BootMediumError.image` wrapping `ImageError`.
    func checkMagic() throws(BootMediumError) {
        guard let magic = SysfsFiles.bytes(path, limit: 6) else {
            throw .image(.unreadable(path: path, reason: "cannot open it"))
        }
        guard !magic.isEmpty else { throw .image(.empty(path: path)) }
        let found = ImageCompression(magic: magic)
        guard found == compression else {
            throw .image(.compressionMismatch(path: path, expected: compression,
                                              found: found?.rawValue ?? "not gzip, zstd or xz"))
        }
    }
}

extension String {
    /// `emt.raw.gz` -> `emt`.
    var strippingImageSuffix: String {
        guard let compression = ImageCompression(fileName: self) else { return self }
        return String(dropLast(compression.suffix.count))
    }
}
