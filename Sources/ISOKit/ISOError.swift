import CISOFS
import Glibc

/// A libisofs (or file system) failure while building, reading or writing an ISO image.
public struct ISOError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The operation that failed.
    public enum Operation: String, Sendable {
        case initialize = "initialising libisofs"
        case createImage = "creating the image"
        case addNode = "adding to the image"
        case setAttributes = "setting attributes"
        case findNode = "looking up"
        case importImage = "reading the image"
        case readFile = "reading a file from the image"
        case prepareWrite = "preparing to write the image"
        case writeImage = "writing the image"
    }

    /// libisofs's severity ranks, lowest first.
    public enum Severity: String, Sendable, Comparable, CaseIterable {
        case debug = "DEBUG", update = "UPDATE", note = "NOTE", hint = "HINT", warning = "WARNING"
        case sorry = "SORRY", mishap = "MISHAP", failure = "FAILURE", fatal = "FATAL", abort = "ABORT"

        /// The severity encoded in a libisofs error code (`iso_error_get_severity`).
        public init?(code: Int32) {
            switch UInt32(bitPattern: iso_error_get_severity(code)) {
            case 0x1000_0000: self = .debug
            case 0x2000_0000: self = .update
            case 0x3000_0000: self = .note
            case 0x4000_0000: self = .hint
            case 0x5000_0000: self = .warning
            case 0x6000_0000: self = .sorry
            case 0x6400_0000: self = .mishap
            case 0x6800_0000: self = .failure
            case 0x7000_0000: self = .fatal
            case 0x7100_0000: self = .abort
            default: return nil
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// The operation that failed.
    public var operation: Operation
    /// The input concerned: a path inside the image, a host file, or the image or output file.
    public var path: String
    /// libisofs's error code (negative), 0 when the failure did not come from libisofs.
    public var code: Int32
    /// `errno` for file system failures outside libisofs, else 0.
    public var errno: Int32
    /// libisofs's text for `code` (`iso_error_to_msg`), `strerror(errno)`, or the wrapper's explanation.
    public var message: String
    /// The messages libisofs queued for this image during the operation ("SORRY: File ... can't be opened").
    public var details: [String]

    public init(operation: Operation, path: String, code: Int32 = 0, errno: Int32 = 0, message: String,
                details: [String] = []) {
        self.operation = operation
        self.path = path
        self.code = code
        self.errno = errno
        self.message = message
        self.details = details
    }

    /// The severity libisofs gives `code`, `nil` when there is no libisofs code.
    public var severity: Severity? { code < 0 ? Severity(code: code) : nil }

    public var description: String {
        var text = "\(path): \(operation.rawValue): \(message)"
        if !details.isEmpty { text += " [" + details.joined(separator: "; ") + "]" }
        return text
    }

    /// An error for a negative libisofs return code.
    static func library(_ operation: Operation, path: String, code: Int32, details: [String] = []) -> ISOError {
        let text = iso_error_to_msg(code).map { String(cString: $0) } ?? "libisofs error \(code)"
        return ISOError(operation: operation, path: path, code: code, message: text, details: details)
    }

    /// An error for a failed system call, from the current `errno`.
    static func system(_ operation: Operation, path: String, what: String) -> ISOError {
        let saved = Glibc.errno
        return ISOError(operation: operation, path: path, errno: saved,
                        message: "\(what): \(String(cString: strerror(saved)))")
    }
}
