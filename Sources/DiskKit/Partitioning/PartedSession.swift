import CParted
import Foundation

/// Serialises every libparted call and answers libparted's questions without ever blocking.
///
/// libparted keeps process-wide state: a device cache, one exception handler, and statics inside the
/// label code (gpt.c asks "use all the space?" once per process unless the answer is left unhandled).
/// All DiskKit calls into libparted run inside `run`, on one recursive lock, so the handler below
/// can record messages for the operation in progress.
final class PartedSession: @unchecked Sendable {
    /// How to answer libparted's questions.
    enum Policy {
        /// Change nothing that was not asked for: decline every "Fix?" and cancel on errors.
        case conservative
        /// Accept "Fix?" offers (used to move a backup GPT to the end of a grown disk).
        case repair
        /// Read past damage to report it: accept "OK"/"Ignore" on errors, decline every "Fix?"; nothing is
        /// committed under it.
        case inspect
    }

    static let shared = PartedSession()

    private let lock = NSRecursiveLock()
    // Guarded by `lock`.
    private var depth = 0
    private var policy = Policy.conservative
    private var messages: [String] = []
    private var fixes: [String] = []

    private init() {
        ped_exception_set_handler(partedExceptionHandler)
    }

    /// Runs `body` holding the libparted lock; the outermost call sets the policy and clears the messages.
    func run<T, E: Error>(_ policy: Policy = .conservative, _ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer {
            depth -= 1
            if depth == 0 { self.policy = .conservative }
            lock.unlock()
        }
        if depth == 0 {
            self.policy = policy
            messages = []
            fixes = []
        }
        depth += 1
        return try body()
    }

    /// Builds an error from the messages raised so far in this `run`, and forgets them.
    func failure(_ operation: PartedError.Operation, path: String, reason: PartedError.Reason = .libraryFailure,
                 code: Int32 = 0, detail: String = "") -> PartedError {
        let said = messages
        messages = []
        return PartedError(operation: operation, path: path, reason: reason, code: code, messages: said, detail: detail)
    }

    /// Every message libparted raised so far in this `run`.
    var raisedMessages: [String] { messages }

    /// The "Fix?" questions answered with FIX in this `run`.
    var appliedFixes: [String] { fixes }

    fileprivate func answer(_ exception: PedException) -> PedExceptionOption {
        let text = exception.message.map { String(cString: $0) } ?? ""
        let typeName = ped_exception_get_type_string(exception.type).map { String(cString: $0) } ?? "Exception"
        messages.append("\(typeName): \(text)")
        let options = exception.options.rawValue
        func offers(_ option: PedExceptionOption) -> Bool { options & option.rawValue != 0 }
        let single = options.nonzeroBitCount == 1 ? PedExceptionOption(rawValue: options) : nil

        if offers(PED_EXCEPTION_FIX) {
            if policy == .repair {
                fixes.append(text)
                return PED_EXCEPTION_FIX
            }
            // Unhandled means "leave it as it is" to gpt.c, and unlike IGNORE it is not remembered
            // for the rest of the process.
            return PED_EXCEPTION_UNHANDLED
        }
        switch exception.type {
        case PED_EXCEPTION_INFORMATION, PED_EXCEPTION_WARNING:
            if let single { return single }
            if offers(PED_EXCEPTION_OK) { return PED_EXCEPTION_OK }
            if offers(PED_EXCEPTION_IGNORE) { return PED_EXCEPTION_IGNORE }
            return PED_EXCEPTION_UNHANDLED
        default:
            if policy != .conservative, offers(PED_EXCEPTION_OK) { return PED_EXCEPTION_OK }
            if policy == .inspect, offers(PED_EXCEPTION_IGNORE) { return PED_EXCEPTION_IGNORE }
            if offers(PED_EXCEPTION_CANCEL) { return PED_EXCEPTION_CANCEL }
            return single ?? PED_EXCEPTION_UNHANDLED
        }
    }
}

private func partedExceptionHandler(_ exception: UnsafeMutablePointer<PedException>?) -> PedExceptionOption {
    guard let exception else { return PED_EXCEPTION_UNHANDLED }
    return PartedSession.shared.answer(exception.pointee)
}
