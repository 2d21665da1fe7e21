/// Failures of the µOS rewrite that are about the µOS's shape rather than a broken stream.
public enum MicroOSError: Error, CustomStringConvertible, Sendable, Equatable {
    case nestedArchiveMissing(input: String, name: String)
    case nestedArchiveTwice(input: String, name: String)
    case nestedArchiveEmpty(input: String)
    case nestedArchiveAlreadyPresent(input: String, name: String)
    case removedHardlinkTarget(input: String, entry: String, target: String)
    case output(path: String, message: String)
    case tarball(path: String, message: String)
    case unbootableCompression(String)
    /// An entry of `input` refused for safety (an unsafe path, a link out of the root).
    case rejected(input: String, reason: EditPlanError)
    /// `input` unpacks to more than `RewriteOptions.limits` allow (a decompression bomb, or a limit set too low).
    case unpackLimit(input: String, message: String)

    public var description: String {
        switch self {
        case .nestedArchiveMissing(let input, let name):
            "\(input): no nested root filesystem archive \(name) in the initramfs (is this the µOS initramfs?)"
        case .nestedArchiveTwice(let input, let name):
            "\(input): the initramfs holds \(name) more than once"
        case .nestedArchiveAlreadyPresent(let input, let name):
            "\(input): the initramfs already holds \(name), but the root filesystem is to come from the µOS tarball"
        case .nestedArchiveEmpty(let input):
            "\(input): the nested root filesystem archive has no entries"
        case .removedHardlinkTarget(let input, let entry, let target):
            "\(input): \(entry) is a hard link to \(target), which the edit plan removes"
        case .rejected(let input, let reason):
            "\(input): \(reason)"
        case .unpackLimit(let input, let message):
            "\(input): \(message)"
        case .unbootableCompression(let name):
            "an initramfs compressed with \(name) does not boot: the kernel cannot decode it (use gzip, zstd, xz or none)"
        case .output(let path, let message), .tarball(let path, let message):
            "\(path): \(message)"
        }
    }
}
