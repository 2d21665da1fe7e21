import Foundation
import Glibc

/// The user applications the medium carries in `/user-apps/` (`emts-iso build --user-apps DIR`), copied to
/// the installed system's persistent partition (`edge_persistent`, partition 3) under `/user-apps/`, as the
/// shell installer copied its stick's user-apps partition to partition 3.
///
/// Directories, regular files (in 1 MiB reads and writes) and symbolic links
/// (as links, never followed) are copied with their permission bits, owned by root; anything else (devices,
/// FIFOs, sockets) is skipped with a warning. An existing `/user-apps` entry of the same name is replaced.
struct UserAppsCopy {
    /// The folder on the medium and on the persistent partition.
    static let directoryName = "user-apps"

    /// What a copy did.
    struct Report: Equatable {
        var files = 0
        var directories = 0
        var links = 0
        var bytes: Int64 = 0
        var skipped: [String] = []
    }

    /// The medium's folder (host path).
    var source: String
    /// Where the persistent partition is mounted (host path).
    var destinationRoot: String
    /// Receives one line per file copied (`/user-apps/app/run.sh: 1.2 KB, mode 0755`).
    var log: (String) -> Void = { _ in }

    /// Files, directories and links under the medium's folder, and their bytes: for the plan.
    static func measure(_ source: String) -> (entries: Int, bytes: Int64) {
        var entries = 0
        var bytes: Int64 = 0
        guard let walker = FileManager.default.enumerator(atPath: source) else { return (0, 0) }
        while let relative = walker.nextObject() as? String {
            entries += 1
            var status = stat()
            if lstat(source + "/" + relative, &status) == 0, status.st_mode & S_IFMT == S_IFREG {
                bytes += Int64(status.st_size)
            }
        }
        return (entries, bytes)
    }

    /// Copies the tree.
    /// - Throws: `ProvisionError.io` naming the file (as the installed system sees it on the partition).
    func run() throws(ProvisionError) -> Report {
        var report = Report()
        let top = "/" + Self.directoryName
        try makeDirectory(destinationRoot + top, shownAs: top, mode: 0o755)
        try copyDirectory(from: source, to: destinationRoot + top, shownAs: top, report: &report)
        return report
    }

    private func copyDirectory(from source: String, to destination: String, shownAs shown: String,
                               report: inout Report) throws(ProvisionError) {
        for name in SysfsFiles.list(source) {
            let from = source + "/" + name
            let to = destination + "/" + name
            let path = shown + "/" + name
            var status = stat()
            guard lstat(from, &status) == 0 else {
                throw .io(path: from, operation: "reading the medium's user apps", reason: TargetRoot.lastError())
            }
            let mode = UInt32(status.st_mode) & 0o7777
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                try makeDirectory(to, shownAs: path, mode: mode)
                report.directories += 1
                try copyDirectory(from: from, to: to, shownAs: path, report: &report)
            case S_IFREG:
                try removeExisting(to, shownAs: path)
                try copyFile(from: from, to: to, shownAs: path, mode: mode, size: Int64(status.st_size))
                report.files += 1
                report.bytes += Int64(status.st_size)
                log("\(path): \(HumanUnits.bytes(UInt64(status.st_size))), mode \(octal(mode))")
            case S_IFLNK:
                guard let target = SysfsFiles.linkTarget(from) else {
                    throw .io(path: from, operation: "reading the link", reason: TargetRoot.lastError())
                }
                try removeExisting(to, shownAs: path)
                guard symlink(target, to) == 0 else {
                    throw .io(path: path, operation: "creating the link", reason: TargetRoot.lastError())
                }
                report.links += 1
                log("\(path): link to \(target)")
            default:
                report.skipped.append(path)
            }
        }
    }

    private func makeDirectory(_ host: String, shownAs path: String, mode: UInt32) throws(ProvisionError) {
        var status = stat()
        if lstat(host, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw .malformed(path: path, reason: "exists and is not a directory")
            }
        } else if mkdir(host, 0o700) != 0 {
            throw .io(path: path, operation: "creating the directory", reason: TargetRoot.lastError())
        }
        guard lchown(host, 0, 0) == 0, chmod(host, mode_t(mode)) == 0 else {
            throw .io(path: path, operation: "setting the mode and owner", reason: TargetRoot.lastError())
        }
    }

    private func removeExisting(_ host: String, shownAs path: String) throws(ProvisionError) {
        var status = stat()
        guard lstat(host, &status) == 0 else { return }
        guard status.st_mode & S_IFMT != S_IFDIR else { throw .malformed(path: path, reason: "is a directory, expected a file") }
        guard unlink(host) == 0 else { throw .io(path: path, operation: "replacing", reason: TargetRoot.lastError()) }
    }

    private func copyFile(from source: String, to destination: String, shownAs path: String, mode: UInt32,
                          size: Int64) throws(ProvisionError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .io(path: source, operation: "opening", reason: TargetRoot.lastError()) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw .io(path: path, operation: "creating", reason: TargetRoot.lastError()) }
        var closed = false
        defer { if !closed { close(output) } }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var copied: Int64 = 0
        while copied < size {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: source, operation: "reading", reason: TargetRoot.lastError())
            }
            guard count > 0 else {
                throw .io(path: source, operation: "reading", reason: "the file ended after \(copied) of \(size) bytes")
            }
            var written = 0
            while written < count {
                let result = buffer.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + written, count - written) }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw .io(path: path, operation: "writing", reason: TargetRoot.lastError())
                }
                written += result
            }
            copied += Int64(count)
        }
        guard fchown(output, 0, 0) == 0, fchmod(output, mode_t(mode)) == 0 else {
            throw .io(path: path, operation: "setting the mode and owner", reason: TargetRoot.lastError())
        }
        guard fsync(output) == 0 else { throw .io(path: path, operation: "flushing", reason: TargetRoot.lastError()) }
        closed = true
        guard close(output) == 0 else { throw .io(path: path, operation: "closing", reason: TargetRoot.lastError()) }
    }
}
