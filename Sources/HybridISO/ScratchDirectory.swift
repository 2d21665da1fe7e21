import Foundation

/// A private working directory beside an output, for tools that create their output files themselves:
/// the finished file is renamed into place (atomic on the same filesystem) and the directory removed.
final class ScratchDirectory {
    let path: String

    /// Creates `.<name>.partial-XXXXXX` in the directory of `output`.
    init(beside output: String) throws(HybridISOError) {
        let url = URL(fileURLWithPath: output)
        let template = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else {
            throw .io(path: output, step: "creating a scratch directory beside it",
                      reason: String(cString: strerror(errno)))
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Makes `file` world-readable and renames it to `output`, replacing what was there.
    func commit(_ file: String, to output: String) throws(HybridISOError) {
        chmod(file, 0o644)
        guard rename(file, output) == 0 else {
            throw .io(path: output, step: "renaming \(file) into place", reason: String(cString: strerror(errno)))
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
