/// Paths of payload entries, in the one form this library hands out: absolute, no `.` or empty components,
/// no trailing `/` (`./usr/bin/x`, `usr/bin/x/` and `/usr/bin/x` all become `/usr/bin/x`; the root is `/`).
enum PackagePath {
    /// The normalized form of an archive path, or nil when it is empty, has a `..` component or a NUL byte
    /// (which no honest package contains: it would reach outside the root).
    static func normalize(_ raw: String) -> String? {
        guard !raw.isEmpty, !raw.utf8.contains(0) else { return nil }
        var kept: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": return nil
            default: kept.append(part)
            }
        }
        return "/" + kept.joined(separator: "/")
    }
}
