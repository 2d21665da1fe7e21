import CISOFS
import Synchronization

/// libisofs's process-wide setup and its message queue.
enum ISOLibrary {
    /// Initialises libisofs once, lazily and thread-safely (a global `let` runs under `swift_once`).
    ///
    /// - Leaves the process locale alone and declares UTF-8 as the local character set, so names
    ///   convert the same way whatever the environment's locale.
    /// - Queues messages of WARNING and above instead of printing them; `messages(for:)` collects them.
    /// - Aborts operations on SORRY and above: libisofs would otherwise fill an unreadable file with
    ///   zeros (a MISHAP) or skip a file it cannot add (a SORRY) and carry on.
    private static let setup: Result<Void, ISOError> = {
        let rc = iso_init_with_flag(1)
        guard rc >= 0 else { return .failure(.library(.initialize, path: "libisofs", code: rc)) }
        guard withMutableCString("UTF-8", { iso_set_local_charset($0, 0) }) > 0 else {
            return .failure(ISOError(operation: .initialize, path: "libisofs", message: "cannot select UTF-8 names"))
        }
        let queued = withMutableCString("WARNING") { queue in
            withMutableCString("NEVER") { print in
                withMutableCString("libisofs: ") { iso_set_msgs_severities(queue, print, $0) }
            }
        }
        guard queued > 0 else {
            return .failure(ISOError(operation: .initialize, path: "libisofs", message: "cannot set message severities"))
        }
        let abort = withMutableCString(abortSeverity.rawValue) { iso_set_abort_severity($0) }
        guard abort >= 0 else { return .failure(.library(.initialize, path: "libisofs", code: abort)) }
        return .success(())
    }()

    /// The severity at and above which libisofs aborts an operation.
    static let abortSeverity = ISOError.Severity.sorry

    /// Makes sure libisofs is initialised.
    /// - Throws: `ISOError` (`.initialize`) when it cannot be.
    static func ensureInitialised() throws(ISOError) {
        try setup.get()
    }

    private static let mailbox = Mutex<[Int32: [String]]>([:])
    private static let mailboxLimit = 200

    /// The queued messages libisofs issued for image `id`, oldest first; they are removed from the queue.
    ///
    /// The queue is global, so messages of other images found on the way are kept for them.
    static func messages(for id: Int32) -> [String] {
        mailbox.withLock { box in
            var code: Int32 = 0
            var image: Int32 = 0
            var text = [CChar](repeating: 0, count: Int(ISO_MSGS_MESSAGE_LEN) + 1)
            var severity = [CChar](repeating: 0, count: 81)
            while withMutableCString("ALL", { iso_obtain_msgs($0, &code, &image, &text, &severity) }) == 1 {
                let line = "\(decodeCString(severity)): \(decodeCString(text))"
                var list = box[image, default: []]
                if list.count < mailboxLimit { list.append(line) }
                box[image] = list
            }
            return box.removeValue(forKey: id) ?? []
        }
    }

    /// Drops the messages kept for image `id`.
    static func forgetMessages(for id: Int32) {
        _ = messages(for: id)
    }
}

/// Calls `body` with a mutable C copy of `text`, for libisofs functions declared `char *` that only read.
func withMutableCString<R>(_ text: String, _ body: (UnsafeMutablePointer<CChar>) throws -> R) rethrows -> R {
    var bytes = Array(text.utf8CString)
    return try bytes.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
}

/// The text of a NUL-terminated C buffer.
func decodeCString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
