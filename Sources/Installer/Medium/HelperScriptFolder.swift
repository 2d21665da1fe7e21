import Foundation

/// A `cloud-scripts/` folder whose files install-os copies to the installed system's `/etc/cloud/`: in the
/// µOS beside the embedded configuration (`/etc/emts/cloud-scripts/`, added at build time with
/// `emts-iso build --add FILE:/etc/emts/cloud-scripts/NAME`) and on the medium's config partition.
enum HelperScriptFolder {
    static let name = "cloud-scripts"
    /// At most this many scripts, each at most `maximumBytes`: helper scripts, not a payload.
    static let maximumCount = 64
    static let maximumBytes = 1 << 20

    /// The regular files of `directory` (sorted by name; hidden files skipped), `[]` when there is no such
    /// folder. `shownAs` names the folder in errors; `name(file)` a file of it, in errors and in each
    /// script's `source` (default: `shownAs/file`).
    /// - Throws: `InstallerConfigError.unreadable` for an entry that is not a regular file, a file too large
    ///   or unreadable, or too many files.
    static func read(_ directory: String, shownAs: String,
                     name: ((String) -> String)? = nil) throws(InstallerConfigError) -> [HelperScript] {
        guard SysfsFiles.isDirectory(directory) else { return [] }
        let names = SysfsFiles.list(directory).filter { !$0.hasPrefix(".") }
        guard names.count <= maximumCount else {
            throw .unreadable(file: shownAs, reason: "\(names.count) files; at most \(maximumCount) helper scripts")
        }
        let nameOf = name ?? { shownAs + "/" + $0 }
        var scripts: [HelperScript] = []
        for name in names {
            let path = directory + "/" + name
            let shown = nameOf(name)
            var info = stat()
            guard lstat(path, &info) == 0 else {
                throw .unreadable(file: shown, reason: String(cString: strerror(errno)))
            }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw .unreadable(file: shown, reason: "not a regular file (helper scripts are plain files)")
            }
            // The name goes into /etc/cloud/ and into a runcmd line: no blanks or control characters.
            guard Validation.isToken(name) else {
                throw .unreadable(file: shown, reason: "a helper script's name may not contain blanks or control characters")
            }
            guard Int(info.st_size) <= maximumBytes else {
                throw .unreadable(file: shown, reason: "\(info.st_size) bytes; a helper script may have at most "
                                  + "\(maximumBytes) bytes")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .unreadable(file: shown, reason: "cannot be read")
            }
            scripts.append(HelperScript(name: name, bytes: [UInt8](data), source: shown))
        }
        return scripts
    }

    /// `earlier` with each script of `later` added, or replacing the one of the same name.
    static func merge(_ earlier: [HelperScript], _ later: [HelperScript]) -> [HelperScript] {
        let replaced = Set(later.map(\.name))
        return (earlier.filter { !replaced.contains($0.name) } + later).sorted { $0.name < $1.name }
    }
}
