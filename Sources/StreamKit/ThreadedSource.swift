import Foundation

/// A `ByteSource` that reads its upstream on a thread of its own, up to `depth` chunks ahead, so the work behind
/// the upstream (decompressing an outer archive, typically) overlaps with the work of whoever reads this one:
/// two stages, two cores.
///
/// Until it has read the upstream to its end (or failed), the thread is the only one to touch the upstream;
/// `stop()` waits for it, after which the caller may use the upstream's owner again. A failure of the upstream
/// is rethrown by `read` once the chunks before it are consumed.
public final class ThreadedSource: ByteSource, @unchecked Sendable {
    private let upstream: any ByteSource
    private let chunkSize: Int
    private let depth: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [[UInt8]] = []
    private var ended = false
    private var stopping = false
    private var producerDone = false
    private var failure: (any Error)?
    // Reader side only.
    private var current: [UInt8] = []
    private var offset = 0

    /// Starts the reading thread; `name` labels it for debuggers.
    public init(_ upstream: any ByteSource, name: String, chunkSize: Int = 1 << 20, depth: Int = 4) {
        self.upstream = upstream
        self.chunkSize = chunkSize
        self.depth = max(1, depth)
        let thread = Thread { [self] in produce() }
        thread.name = name
        thread.start()
    }

    deinit { stop() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if offset == current.count {
            condition.lock()
            while queue.isEmpty && !ended { condition.wait() }
            guard !queue.isEmpty else {
                let failure = self.failure
                condition.unlock()
                if let failure { throw failure }
                return 0
            }
            current = queue.removeFirst()
            offset = 0
            condition.broadcast()
            condition.unlock()
        }
        let count = min(buffer.count, current.count - offset)
        current.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }

    /// Stops reading ahead and waits until the thread no longer touches the upstream. Later calls do nothing.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !producerDone { condition.wait() }
        condition.unlock()
    }

    private func produce() {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            condition.lock()
            while queue.count >= depth && !stopping { condition.wait() }
            if stopping {
                finish(failure: nil)
                return
            }
            condition.unlock()
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try upstream.read(into: $0) }
            } catch {
                condition.lock()
                finish(failure: error)
                return
            }
            condition.lock()
            if count == 0 {
                finish(failure: nil)
                return
            }
            queue.append(Array(buffer[0 ..< count]))
            condition.broadcast()
            condition.unlock()
        }
    }

    /// With the lock held: the end of reading (at the upstream's end, on its failure or when stopped).
    private func finish(failure: (any Error)?) {
        self.failure = failure
        ended = true
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }
}
