import Glibc

/// The fuzz input as a file, for readers that open paths (initramfs, packages, ISO images).
///
/// One path per process and per name, rewritten for every input and removed when the process exits normally
/// (after a crash libFuzzer leaves it; fuzz/run.sh points `TMPDIR` at a work directory it removes). Lives in
/// `TMPDIR`, else `/dev/shm` (memory: no disk traffic), else `/tmp`.
public enum FuzzInput {
    /// The directory the input files go to.
    public static let directory: String = {
        for candidate in [getenv("TMPDIR").map { String(cString: $0) }, "/dev/shm", "/tmp"] {
            if let candidate, !candidate.isEmpty, access(candidate, W_OK) == 0 { return candidate }
        }
        return "."
    }()

    /// A per-process path called `name` (such as "input.rpm": some readers look at the suffix).
    public static func path(_ name: String) -> String {
        let path = "\(directory)/emts-fuzz-\(getpid())-\(name)"
        if registered.insert(path).inserted {
            created.append(path)
            if created.count == 1 { atexit { FuzzInput.removeAll() } }
        }
        return path
    }

    /// Writes `bytes` to the file `name` (replacing it) and returns its path.
    public static func write(_ data: UnsafePointer<UInt8>, _ size: Int, as name: String) -> String {
        write(UnsafeRawBufferPointer(start: data, count: size), as: name)
    }

    public static func write(_ bytes: UnsafeRawBufferPointer, as name: String) -> String {
        let path = path(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fatalError("fuzz harness: cannot create \(path): \(String(cString: strerror(errno)))") }
        var done = 0
        while done < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { fatalError("fuzz harness: cannot write \(path): \(String(cString: strerror(errno)))") }
            done += count
        }
        close(fd)
        return path
    }

    public static func write(_ bytes: [UInt8], as name: String) -> String {
        bytes.withUnsafeBytes { write($0, as: name) }
    }

    /// Removes a directory tree the harness made (outputs of a rewrite), best effort.
    public static func removeTree(_ path: String) {
        guard let stream = opendir(path) else {
            unlink(path)
            return
        }
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var status = stat()
            if lstat(child, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        closedir(stream)
        rmdir(path)
    }

    nonisolated(unsafe) private static var registered: Set<String> = []
    nonisolated(unsafe) private static var created: [String] = []

    private static func removeAll() {
        for path in created { removeTree(path) }
    }
}

/// A newc cpio archive built in memory, for wrapping a fuzz input as an initramfs entry.
public struct NewcArchive {
    public private(set) var bytes: [UInt8] = []
    private var inode: UInt32 = 1

    public init() {}

    public mutating func add(_ name: String, mode: UInt32 = 0o100644, data: UnsafeRawBufferPointer) {
        header(name, mode: mode, size: data.count)
        bytes.append(contentsOf: data)
        pad()
    }

    public mutating func add(_ name: String, mode: UInt32 = 0o100644, data: [UInt8]) {
        data.withUnsafeBytes { add(name, mode: mode, data: $0) }
    }

    /// Ends the archive with the `TRAILER!!!` entry.
    public mutating func finish() {
        header("TRAILER!!!", mode: 0, size: 0)
    }

    private mutating func header(_ name: String, mode: UInt32, size: Int) {
        let fields: [UInt32] = [inode, mode, 0, 0, 1, 0, UInt32(truncatingIfNeeded: size), 0, 0, 0, 0,
                                UInt32(name.utf8.count + 1), 0]
        inode += 1
        bytes.append(contentsOf: Array("070701".utf8))
        for field in fields {
            var hex = Array(String(field, radix: 16, uppercase: true).utf8)
            while hex.count < 8 { hex.insert(UInt8(ascii: "0"), at: 0) }
            bytes.append(contentsOf: hex)
        }
        bytes.append(contentsOf: Array(name.utf8))
        bytes.append(0)
        pad()
    }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
