import Glibc

/// The packages available for installation: every `*.rpm` and `*.deb` of a directory, read up front.
public struct PackageRepository: Sendable {
    /// The directory scanned, when the repository came from one.
    public let directory: String?
    /// Every package, in file name order.
    public let packages: [PackageArchive]

    /// Reads every `*.rpm` and `*.deb` file directly in `directory` (not in subdirectories).
    /// - Throws: `PackageError.repositoryUnreadable` when the directory cannot be listed, or the error of the
    ///   first package that cannot be read (naming its file): a corrupt package is never skipped silently.
    public init(directory: String) throws(PackageError) {
        guard let stream = opendir(directory) else {
            throw .repositoryUnreadable(directory: directory, reason: String(cString: strerror(errno)))
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            let isPackage = PackageFormat.allCases.contains { name.hasSuffix($0.fileExtension) && name.count > $0.fileExtension.count }
            guard isPackage, !name.hasPrefix(".") else { continue }
            names.append(name)
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        var packages: [PackageArchive] = []
        for name in names.sorted() {
            let path = base + name
            var status = stat()
            // A directory named like a package is not one; anything else unreadable is reported by open.
            if stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { continue }
            // The name decides the reader, so a damaged file's error speaks of the format it claims to be.
            packages.append(name.hasSuffix(PackageFormat.rpm.fileExtension) ? .rpm(try RPMPackage(path: path))
                : .deb(try DebianPackage(path: path)))
        }
        self.directory = directory
        self.packages = packages
    }

    /// A repository of packages already opened.
    public init(packages: [PackageArchive]) {
        self.directory = nil
        self.packages = packages
    }

    /// The packages called `name`, newest first (per format).
    public func packages(named name: String) -> [PackageArchive] {
        packages.filter { $0.metadata.name == name }.sorted { $0.metadata.version.isNewer(than: $1.metadata.version) }
    }
}
