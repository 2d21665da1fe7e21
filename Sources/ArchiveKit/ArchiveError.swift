import CArchive

/// A libarchive failure, carrying what was being done, on which input, and libarchive's own words.
public struct ArchiveError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What the wrapper was doing ("reading header", "writing data", "opening").
    public var operation: String
    /// The archive the operation concerned (a path, or a description such as "initramfs segment 2").
    public var input: String
    /// libarchive's return code (ARCHIVE_FATAL, ARCHIVE_FAILED, ...), or 0 for errors raised by the wrapper.
    public var code: Int32
    /// `errno` as libarchive recorded it, 0 when none.
    public var errno: Int32
    /// libarchive's error string, or the wrapper's explanation.
    public var message: String

    public init(operation: String, input: String, code: Int32 = 0, errno: Int32 = 0, message: String) {
        self.operation = operation
        self.input = input
        self.code = code
        self.errno = errno
        self.message = message
    }

    public var description: String { "\(input): \(operation): \(message)" }

    /// Builds the error from the state of a libarchive handle after a failed call.
    static func from(_ handle: OpaquePointer?, code: Int32, operation: String, input: String) -> ArchiveError {
        let text = archive_error_string(handle).map { String(cString: $0) } ?? "libarchive error \(code)"
        return ArchiveError(operation: operation, input: input, code: code,
                            errno: archive_errno(handle), message: text)
    }
}

/// libarchive results: OK and WARN continue (warnings are collected), anything lower is an error.
@inline(__always)
func check(_ code: Int32, _ handle: OpaquePointer?, _ operation: @autoclosure () -> String,
           input: String, warnings: inout [String]) throws {
    if code == ARCHIVE_OK { return }
    if code == ARCHIVE_WARN {
        let text = archive_error_string(handle).map { String(cString: $0) } ?? "warning"
        warnings.append("\(operation()): \(text)")
        return
    }
    throw ArchiveError.from(handle, code: code, operation: operation(), input: input)
}
