/// A failure while building one of the bootable ISO's parts, with the step and the input it concerns.
public enum HybridISOError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An external tool is not installed; `package` is the Debian package that provides it.
    case toolMissing(tool: String, package: String)
    /// GRUB's modules for a platform are not installed.
    case grubPlatformMissing(platform: String, directory: String, package: String)
    /// An external tool ran but failed: what it was doing, its exit status and what it printed.
    case toolFailed(tool: String, step: String, status: Int32, output: String)
    /// A plan is not valid (a bad label, path, module name, build id, size...).
    case invalidPlan(String)
    /// The contents do not fit the fixed size asked for.
    case contentsTooLarge(image: String, needed: UInt64, size: UInt64)
    /// A file read back from an image differs from what was copied in, or is missing.
    case verificationFailed(image: String, path: String, reason: String)
    /// Reading or writing a local file failed.
    case io(path: String, step: String, reason: String)
    /// A kernel command line drops or contradicts a required argument, or cannot be carried safely.
    case invalidKernelArguments(String)
    /// The kernel arguments do not fit their fixed-size area.
    case kernelArgumentsTooLong(length: Int, capacity: Int)
    /// A template names a placeholder no value was given for, or is malformed.
    case template(String)

    public var description: String {
        switch self {
        case let .toolMissing(tool, package):
            "\(tool) not found: install \(package)"
        case let .grubPlatformMissing(platform, directory, package):
            "GRUB modules for \(platform) not found in \(directory): install \(package)"
        case let .toolFailed(tool, step, status, output):
            "\(step): \(tool) failed with status \(status)" + (output.isEmpty ? "" : ": \(output)")
        case let .invalidPlan(reason):
            "invalid plan: \(reason)"
        case let .contentsTooLarge(image, needed, size):
            "\(image): contents need \(needed) bytes but the image is fixed at \(size) bytes"
        case let .verificationFailed(image, path, reason):
            "\(image): verifying \(path): \(reason)"
        case let .io(path, step, reason):
            "\(path): \(step): \(reason)"
        case let .invalidKernelArguments(reason):
            "invalid kernel arguments: \(reason)"
        case let .kernelArgumentsTooLong(length, capacity):
            "kernel arguments area overflow: needs \(length) bytes, the fixed area holds \(capacity)"
        case let .template(reason):
            "boot menu template: \(reason)"
        }
    }
}
