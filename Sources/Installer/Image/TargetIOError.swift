import Glibc

/// An I/O failure on the target: the operation, the offset and the system's reason.
struct TargetIOError: Error, Sendable {
    enum Kind: Sendable { case system(Int32), shortWrite(Int), noSpace(needed: UInt64) }
    var operation: String
    var offset: UInt64?
    var kind: Kind

    var reason: String {
        let place = offset.map { " at byte \($0)" } ?? ""
        switch kind {
        case .system(let code): return "\(operation)\(place): \(String(cString: strerror(code)))"
        case .shortWrite(let count): return "\(operation)\(place): the device accepted only \(count) bytes"
        case .noSpace(let needed): return "\(operation)\(place): the image needs at least \(needed) bytes"
        }
    }
}
