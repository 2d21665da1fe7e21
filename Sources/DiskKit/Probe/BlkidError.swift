import Glibc

/// A libblkid failure: what was being probed, where, and why.
public struct BlkidError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The step of a probe that failed.
    public enum Operation: String, Sendable {
        case open = "opening"
        case createProbe = "creating a probe"
        case setWindow = "setting the probe window"
        case probe = "probing"
    }

    /// The step that failed.
    public var operation: Operation
    /// The file or block device that was probed.
    public var path: String
    /// libblkid's return code (negative), or 0 for failures before libblkid was called.
    public var code: Int32
    /// `errno` at the time of the failure, 0 when none.
    public var errno: Int32
    /// What went wrong, in words.
    public var message: String

    public init(operation: Operation, path: String, code: Int32 = 0, errno: Int32 = 0, message: String) {
        self.operation = operation
        self.path = path
        self.code = code
        self.errno = errno
        self.message = message
    }

    public var description: String { "\(path): \(operation.rawValue): \(message)" }

    /// Builds the error from the current `errno`; libblkid reports its failures that way.
    static func fromErrno(_ operation: Operation, path: String, code: Int32 = 0, fallback: String) -> BlkidError {
        let saved = Glibc.errno
        let text = saved != 0 ? String(cString: strerror(saved)) : fallback
        return BlkidError(operation: operation, path: path, code: code, errno: saved, message: text)
    }
}
