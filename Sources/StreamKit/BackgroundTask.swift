import Foundation

/// Work started on a thread of its own now, whose result is collected later: for work that overlaps with
/// what the calling thread does meanwhile.
public final class BackgroundTask<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, any Error>?

    /// Starts `body` on a new thread named `name` (for debuggers).
    public init(name: String, _ body: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [self] in
            let outcome: Result<Value, any Error>
            do { outcome = .success(try body()) } catch { outcome = .failure(error) }
            condition.lock()
            result = outcome
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        thread.start()
    }

    /// Waits for the work to end; returns its value or rethrows its error.
    public func value() throws -> Value {
        try wait().get()
    }

    /// Waits for the work to end, whatever its outcome.
    @discardableResult
    public func wait() -> Result<Value, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
