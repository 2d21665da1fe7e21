/// The OS image on the medium cannot be used: unreadable, damaged, or not what its checksum says.
/// install-os exits with code 5 for these.
public enum ImageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The image file cannot be read (a medium error).
    case unreadable(path: String, reason: String)
    /// The compressed stream cannot be decoded: truncated or corrupt.
    case damaged(path: String, compression: ImageCompression, message: String)
    /// The file's first bytes are not the compression its name says.
    case compressionMismatch(path: String, expected: ImageCompression, found: String)
    /// The image decompresses to nothing.
    case empty(path: String)
    /// The sha256 of the compressed file is not the one in its `.sha256` file.
    case checksumMismatch(path: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "\(path): cannot read the OS image: \(reason)"
        case .damaged(let path, let compression, let message):
            "\(path): the \(compression.rawValue) stream is damaged or truncated: \(message)"
        case .compressionMismatch(let path, let expected, let found):
            "\(path): named as \(expected.rawValue) but its content is \(found)"
        case .empty(let path):
            "\(path): the image decompresses to nothing"
        case .checksumMismatch(let path, let expected, let actual):
            "\(path): sha256 mismatch: the medium's checksum file says \(expected), the image is \(actual) "
                + "(the medium is damaged or the image was replaced)"
        }
    }
}
