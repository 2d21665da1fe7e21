/// How the resolver chooses packages.
public struct ResolveOptions: Sendable, Hashable {
    /// Report unresolvable dependencies as warnings in the result instead of throwing.
    public var allowMissing: Bool
    /// Architectures a repository package may have to be chosen (both formats' spellings).
    public var architectures: Set<String>
    /// Where a shared library (`libc.so.6()(64bit)`) is looked for in the target root.
    public var libraryDirectories: [String]

    public static let defaultArchitectures: Set<String> = ["x86_64", "amd64", "noarch", "all"]
    public static let defaultLibraryDirectories = [
        "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
    ]

    public init(allowMissing: Bool = false, architectures: Set<String> = ResolveOptions.defaultArchitectures,
                libraryDirectories: [String] = ResolveOptions.defaultLibraryDirectories) {
        self.allowMissing = allowMissing
        self.architectures = architectures
        self.libraryDirectories = libraryDirectories
    }
}
