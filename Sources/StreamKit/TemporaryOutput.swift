import Foundation
import Glibc

/// An output file written under a temporary name beside its final path and renamed into place only when
/// complete, so a failure (or a crash) never leaves a partial file under the final name.
public final class TemporaryOutput {
    /// The final path.
    public let path: String
    /// The file being written, under its temporary name.
    public let file: FileSink
    private var settled = false

    /// Creates the temporary file in the directory of `path`.
    /// - Throws: `FileStreamError` if the directory does not exist or is not writable.
    public init(for path: String, permissions: mode_t = 0o644) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
        file = try FileSink(creating: temporary, permissions: permissions, displayPath: path)
    }

    /// Flushes the file and renames it to the final path (replacing what was there).
    public func commit() throws {
        guard !settled else { return }
        try file.close()
        guard rename(file.path, path) == 0 else {
            let error = FileStreamError(path: path, operation: "renaming \(file.path) into place", errno: errno)
            discard()
            throw error
        }
        settled = true
    }

    /// Deletes the temporary file.
    public func discard() {
        guard !settled else { return }
        settled = true
        try? file.close()
        unlink(file.path)
    }

    deinit { discard() }
}
