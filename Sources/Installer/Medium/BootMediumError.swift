/// Why install-os has no medium or no image to install. install-os exits with code 3 for these (5 for a
/// damaged image).
public enum BootMediumError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No block device carries an EMT-S install medium. `probed` lists what was looked at and why each
    /// is not it.
    case notFound(wanted: String?, probed: [String])
    /// Several EMT-S media are plugged in and the kernel command line names none (`emts.medium=`).
    case ambiguous(candidates: [String])
    /// The medium was found but cannot be mounted.
    case mount(MountError)
    case noImage(directory: String)
    case imageNotFound(directory: String, name: String, available: [String])
    case severalImages(directory: String, names: [String])
    case imageUnreadable(path: String, reason: String)
    case checksumMissing(path: String, image: String)
    case checksumMalformed(path: String, reason: String)
    /// The image's content is not what its name says.
    case image(ImageError)

    public var description: String {
        switch self {
        case .notFound(let wanted, let probed):
            (wanted.map { "no EMT-S install medium with build id \($0) (emts.medium=\($0))" }
                ?? "no EMT-S install medium (an ISO 9660 file system labelled \(BootMedium.volumeLabel) with /.disk/emts-iso-<build id>)")
                + (probed.isEmpty ? "; no block devices to look at" : ":\n  " + probed.joined(separator: "\n  "))
        case .ambiguous(let candidates):
            "several EMT-S install media are plugged in (\(candidates.joined(separator: ", "))) and the kernel "
                + "command line names none with emts.medium=; unplug the others"
        case .mount(let error):
            "cannot mount the install medium: \(error)"
        case .noImage(let directory):
            "\(directory): no OS image (*.raw.gz, *.raw.zst or *.raw.xz) on the medium"
        case .imageNotFound(let directory, let name, let available):
            "\(directory): no image \(name) (set by image:); the medium has "
                + (available.isEmpty ? "none" : available.joined(separator: ", "))
        case .severalImages(let directory, let names):
            "\(directory): several images (\(names.joined(separator: ", "))); name one with image: in installer.yaml"
        case .imageUnreadable(let path, let reason):
            "\(path): \(reason)"
        case .checksumMissing(let path, let image):
            "\(path): missing: the image \(image) cannot be verified, so it is not installed"
        case .checksumMalformed(let path, let reason):
            "\(path): \(reason)"
        case .image(let error):
            error.description
        }
    }
}
