import Foundation

/// A `ByteSink` that hands its bytes to another sink running on its own thread, so the work behind that sink
/// (compression, typically) overlaps with the work producing the bytes: two stages, two cores.
///
/// Writes are gathered into chunks of `chunkSize`; at most `depth` chunks wait in the queue, which bounds memory
/// to about `chunkSize * (depth + 2)`. A failure in the downstream sink is rethrown by the next `write` or by
/// `close`.
public final class ThreadedSink: ByteSink, @unchecked Sendable {
    private let downstream: any ByteSink
    private let chunkSize: Int
    private let depth: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [[UInt8]] = []
    private var finished = false
    private var consumerDone = false
    private var failure: (any Error)?
    // Producer side only.
    private var pending: [UInt8] = []
    private var closed = false

    /// Starts the consumer thread; `name` labels it for debuggers.
    public init(_ downstream: any ByteSink, name: String, chunkSize: Int = 1 << 20, depth: Int = 4) {
        self.downstream = downstream
        self.chunkSize = chunkSize
        self.depth = max(1, depth)
        pending.reserveCapacity(chunkSize)
        let thread = Thread { [self] in consume() }
        thread.name = name
        thread.start()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let take = min(chunkSize - pending.count, bytes.count - offset)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + take]))
            offset += take
            if pending.count == chunkSize { try enqueue() }
        }
    }

    /// Sends what is left, waits until the downstream sink has consumed everything, and rethrows its failure.
    /// Does not close the downstream sink.
    public func close() throws {
        guard !closed else { return }
        closed = true
        if !pending.isEmpty { try enqueue() }
        condition.lock()
        finished = true
        condition.broadcast()
        while !consumerDone { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }

    /// Stops the consumer without waiting for queued bytes (after a failure elsewhere in the pipeline).
    public func abandon() {
        condition.lock()
        queue.removeAll()
        finished = true
        closed = true
        condition.broadcast()
        while !consumerDone { condition.wait() }
        condition.unlock()
    }

    deinit {
        if !consumerDone { abandon() }
    }

    private func enqueue() throws {
        condition.lock()
        while queue.count >= depth && failure == nil { condition.wait() }
        if let failure {
            condition.unlock()
            throw failure
        }
        queue.append(pending)
        condition.broadcast()
        condition.unlock()
        pending = []
        pending.reserveCapacity(chunkSize)
    }

    private func consume() {
        while true {
            condition.lock()
            while queue.isEmpty && !finished { condition.wait() }
            if queue.isEmpty {
                consumerDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let chunk = queue.removeFirst()
            condition.broadcast()
            let stop = failure != nil
            condition.unlock()
            if stop { continue }
            do {
                try chunk.withUnsafeBytes { try downstream.write($0) }
            } catch {
                condition.lock()
                failure = error
                queue.removeAll()
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
