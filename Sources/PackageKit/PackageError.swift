/// Why a package cannot be read or a package set cannot be resolved. Every case names the file (or the
/// dependencies) at fault, so a user sees which input is wrong and how.
public enum PackageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file cannot be opened, sized or read.
    case unreadable(path: String, reason: String)
    /// The file is not a package of a format this library reads (wrong magic, unknown member layout).
    case notAPackage(path: String, reason: String)
    /// The package's structure is damaged: an offset or count out of range, a malformed field, a bad payload.
    case corrupt(path: String, reason: String)
    /// The file ends before the structure it declares does.
    case truncated(path: String, reason: String)
    /// The payload is compressed with something this library does not decode.
    case unsupportedCompression(path: String, compression: String)
    /// A well-formed package using a feature this library does not support (payload format, format version).
    case unsupported(path: String, reason: String)
    /// An entry's data is larger than the caller allowed to read into memory.
    case entryTooLarge(path: String, entry: String, limit: Int)
    /// The repository directory cannot be listed.
    case repositoryUnreadable(directory: String, reason: String)
    /// Dependencies nothing satisfies: every one of them, with who needs it.
    case unresolved([MissingDependency])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "\(path): cannot read: \(reason)"
        case .notAPackage(let path, let reason):
            "\(path): not a package: \(reason)"
        case .corrupt(let path, let reason):
            "\(path): corrupt package: \(reason)"
        case .truncated(let path, let reason):
            "\(path): truncated package: \(reason)"
        case .unsupportedCompression(let path, let compression):
            "\(path): payload compression \"\(compression)\" is not supported (gzip, xz, zstd, lzma, bzip2 are)"
        case .unsupported(let path, let reason):
            "\(path): unsupported package: \(reason)"
        case .entryTooLarge(let path, let entry, let limit):
            "\(path): \(entry): data exceeds the \(limit)-byte limit"
        case .repositoryUnreadable(let directory, let reason):
            "\(directory): cannot list the package repository: \(reason)"
        case .unresolved(let missing):
            (["\(missing.count) unresolved \(missing.count == 1 ? "dependency" : "dependencies"):"]
                + missing.map { "  \($0)" }).joined(separator: "\n")
        }
    }

    /// The file the error is about, when it concerns one file.
    public var path: String? {
        switch self {
        case .unreadable(let path, _), .notAPackage(let path, _), .corrupt(let path, _), .truncated(let path, _),
             .unsupportedCompression(let path, _), .unsupported(let path, _), .entryTooLarge(let path, _, _):
            path
        case .repositoryUnreadable(let directory, _):
            directory
        case .unresolved:
            nil
        }
    }
}
