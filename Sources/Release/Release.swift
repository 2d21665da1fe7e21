/// What this build of emts-iso is, shared by both executables so they always report the same version.
public enum Release {
    /// Semantic version of emts-iso and install-os.
    public static let version = "0.1.0"
}
