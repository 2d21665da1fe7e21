import Foundation
import Glibc

/// Small reads of sysfs, procfs and /dev: attribute files, directory listings, links.
enum SysfsFiles {
    /// The file's text without surrounding white space; `nil` when it cannot be read. Reads at most 64 KiB.
    static func text(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 64 << 10) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingWhitespace
    }

    /// The whole file as text (for /proc/self/mountinfo and friends), at most `limit` bytes.
    static func contents(_ path: String, limit: Int = 4 << 20) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: limit) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The file's bytes, at most `limit`.
    static func bytes(_ path: String, limit: Int) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.read(upToCount: limit) ?? Data())
        } catch {
            return nil
        }
    }

    static func unsigned(_ path: String) -> UInt64? { text(path).flatMap { UInt64($0) } }

    static func flag(_ path: String) -> Bool? { text(path).map { $0 == "1" } }

    /// Names in a directory, sorted; empty when it does not exist.
    static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The target of the symbolic link at `path`, or `nil` when it is not one.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0 ..< count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` with every symbolic link followed, `.` and `..` resolved; `nil` when it does not exist.
    static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Joins a link's target to the directory of the link and removes `.` and `..` components, without
    /// touching the file system beyond that (the target need not exist).
    static func resolve(linkTarget target: String, relativeTo linkPath: String) -> String {
        let base = target.hasPrefix("/") ? target : (linkPath as NSString).deletingLastPathComponent + "/" + target
        var components: [Substring] = []
        for component in base.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": if !components.isEmpty { components.removeLast() }
            default: components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }
}
