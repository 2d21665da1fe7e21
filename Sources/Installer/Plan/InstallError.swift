/// Everything that stops install-os, by stage; each stage has its exit code.
public enum InstallError: Error, CustomStringConvertible, Sendable, Equatable {
    case config(InstallerConfigError)
    case medium(BootMediumError)
    case image(ImageError)
    case target(TargetError)
    case write(ImageWriteError)
    case bootEntry(BootEntryError)
    /// Laying out the storage failed (the target's partition tables are wiped again).
    case storage(StorageError)
    /// Configuring the installed system failed (the target's partition tables are wiped again).
    case provision(String)

    public var exitCode: InstallerExitCode {
        switch self {
        case .config: .badConfiguration
        case .medium(.image): .verificationFailed
        case .medium: .noMedium
        case .image: .verificationFailed
        case .target: .noTarget
        case .write(let error): error.isVerificationFailure ? .verificationFailed : .installFailed
        case .bootEntry, .storage, .provision: .installFailed
        }
    }

    public var description: String {
        switch self {
        case .config(let error): error.description
        case .medium(let error): error.description
        case .image(let error): error.description
        case .target(let error): error.description
        case .write(let error): error.description
        case .bootEntry(let error): "boot entry: \(error)"
        case .storage(let error): "storage layout: \(error)"
        case .provision(let text): "configuring the installed system: \(text)"
        }
    }
}
