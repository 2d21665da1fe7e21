/// install-os's exit codes (documented in installer/README.md).
public enum InstallerExitCode: Int32, Sendable, CaseIterable {
    /// Installed (or, for `--dry-run` and `list-disks`, planned/listed); also when the installer is
    /// switched off for this boot.
    case success = 0
    /// The install failed: an I/O error on the target, the boot entry, ...
    case installFailed = 1
    /// Bad configuration, kernel argument or command-line usage; nothing was touched.
    case badConfiguration = 2
    /// No install medium, no image or checksum on it; nothing was touched.
    case noMedium = 3
    /// No eligible target disk, or the named one must not be written; nothing was touched.
    case noTarget = 4
    /// The image failed verification (checksum mismatch, damaged or truncated); the target, if written,
    /// was left without a partition table.
    case verificationFailed = 5
}
