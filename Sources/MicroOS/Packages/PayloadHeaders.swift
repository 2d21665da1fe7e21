import Foundation
import PackageKit
import StreamKit

/// The entry headers of a package's payload, read once with the data skipped: what the plan places.
struct PayloadHeaders: Sendable {
    var entries: [PackagePayloadEntry] = []
    /// Why reading stopped early (a refused entry, a damaged payload); the plan throws it after placing the
    /// entries before it, as if it had read them itself.
    var failure: (any Error)?

    /// Reads `package`'s payload headers. A special file, or an entry past the standard unpack budget, ends the
    /// read there: a payload that declares absurd sizes stops at its header, before its data is decompressed.
    static func read(_ package: PackageArchive) -> PayloadHeaders {
        var headers = PayloadHeaders()
        var budget = UnpackBudget(.standard, input: package.path)
        do {
            let reader = try package.payload()
            while let entry = try reader.next() {
                guard entry.kind.isInjectable else {
                    throw PackageInjectionError.specialFile(package: package.path, entry: entry.path, kind: entry.kind)
                }
                try budget.admit(entry.rootArchiveEntry)
                try reader.skipData()
                headers.entries.append(entry)
            }
        } catch {
            headers.failure = error
        }
        return headers
    }
}

/// Reads the payload headers of the packages in a package directory on a thread of its own, while the µOS is
/// scanned: decompressing the payloads (xz, mostly) is the longest part of planning their injection, and it does
/// not depend on the µOS. The plan then takes each package's headers from here (waiting for them if they are
/// being read) instead of reading them itself; a package not read here, or whose file changed since, is read
/// by the plan as before.
///
/// Only small directories are read ahead (at most `maxFiles` package files, `maxBytes` in all; the packages
/// emts-iso injects with their dependencies are about 5 MB): every file is read, needed or not, and on the
/// scan's cores, so a directory that is a whole mirror would cost more than it saves.
final class PayloadPrefetch: @unchecked Sendable {
    static let maxFiles = 64
    static let maxBytes: Int64 = 64 << 20

    private struct FileStamp: Equatable {
        var size: Int64
        var mtime: timespec

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            size = Int64(info.st_size)
            mtime = info.st_mtim
        }

        static func == (a: FileStamp, b: FileStamp) -> Bool {
            a.size == b.size && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec
        }
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: Set<String>
    private var read: [String: (stamp: FileStamp, headers: PayloadHeaders)] = [:]
    private var stopped = false
    private var reading: BackgroundTask<Void>?

    /// Starts reading the package files of `directory`; nil when there are none or too many.
    init?(directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        var files: [(path: String, stamp: FileStamp)] = []
        var bytes: Int64 = 0
        for name in names.sorted() where name.hasSuffix(".deb") || name.hasSuffix(".rpm") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let stamp = FileStamp(path: path) else { continue }
            files.append((path, stamp))
            bytes += stamp.size
        }
        guard !files.isEmpty, files.count <= Self.maxFiles, bytes <= Self.maxBytes else { return nil }
        pending = Set(files.map(\.path))
        let toRead = files
        reading = BackgroundTask(name: "emts-packages") { [self] in
            for file in toRead {
                condition.lock()
                let stop = stopped
                condition.unlock()
                if stop { break }
                // A file that is no package is left to the plan, which names the problem.
                let headers = (try? PackageArchive.open(path: file.path)).map(PayloadHeaders.read)
                condition.lock()
                pending.remove(file.path)
                if let headers { read[file.path] = (file.stamp, headers) }
                condition.broadcast()
                condition.unlock()
            }
            condition.lock()
            pending.removeAll()
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The headers of the package file at `path`, waiting while it is being read; nil when it was not read
    /// here or has changed since.
    func headers(for path: String) -> PayloadHeaders? {
        condition.lock()
        while pending.contains(path) { condition.wait() }
        let entry = read[path]
        condition.unlock()
        guard let entry, FileStamp(path: path) == entry.stamp else { return nil }
        return entry.headers
    }

    /// Stops reading ahead and waits for the thread (after the plan, or when it failed).
    func stop() {
        condition.lock()
        stopped = true
        condition.unlock()
        reading?.wait()
    }
}
