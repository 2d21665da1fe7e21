import CZlib
import Foundation
import StreamKit

/// Compresses a byte stream into raw deflate on several threads, in independent pieces that join into one
/// stream (as pigz does).
///
/// The input is cut into pieces of `pieceSize` bytes; each piece is deflated on a worker thread with the 32 KiB
/// before it as the dictionary (so it loses almost nothing against one long stream) and ends with a sync flush:
/// every piece is a byte-aligned run of non-final blocks, and the pieces in order are one deflate stream
/// without its final block. Each piece carries its length and CRC-32, so a gzip writer can append them
/// (`GzipSplicer.append(_:)`) and combine the CRCs. The output depends only on the input, the level and the
/// piece size, never on how the threads were scheduled.
///
/// The producer `write`s and then `close`s; the consumer takes the pieces in order with `next()`, on another
/// thread, and may start late: pieces wait in memory until then, up to `bufferLimit` compressed bytes (then
/// the producer waits). Memory is bounded by that limit plus about `pieceSize` times (2 × workers + 2): queued,
/// in work, and being filled.
public final class ParallelDeflater: ByteSink, @unchecked Sendable {
    /// One compressed piece: deflate blocks ending on a byte boundary.
    public struct Piece: Sendable {
        public var deflated: [UInt8]
        /// Uncompressed bytes it stands for, and their CRC-32.
        public var length: Int
        public var crc: UInt32
    }

    private struct Job {
        var sequence: Int
        var input: [UInt8]
        var dictionary: [UInt8]
    }

    public let name: String
    private let level: Int32
    private let pieceSize: Int
    private let bufferLimit: Int
    private let workerCount: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [Job] = []
    private var done: [Int: Piece] = [:]
    private var doneBytes = 0
    private var submitted = 0
    private var delivered = 0
    private var inputClosed = false
    private var stopped = false
    private var workersRunning: Int
    private var failure: (any Error)?
    // Producer side only.
    private var pending: [UInt8] = []
    private var lastWindow: [UInt8] = []
    private var closed = false

    /// Starts `workers` threads (at least one).
    public init(level: Int32, name: String, workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount),
                pieceSize: Int = 1 << 20, bufferLimit: Int = 64 << 20) {
        self.level = level
        self.name = name
        self.pieceSize = max(DeflateIndex.windowSize, pieceSize)
        self.bufferLimit = max(bufferLimit, pieceSize)
        workerCount = max(1, workers)
        workersRunning = workerCount
        pending.reserveCapacity(self.pieceSize)
        for number in 0 ..< workerCount {
            let thread = Thread { [self] in work() }
            thread.name = "emts-deflate-\(number)"
            thread.start()
        }
    }

    deinit { abandon() }

    // MARK: producer

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !closed else { throw DeflateError(input: name, message: "internal error: written after close") }
        var offset = 0
        while offset < bytes.count {
            let take = min(pieceSize - pending.count, bytes.count - offset)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + take]))
            offset += take
            if pending.count == pieceSize { try submit() }
        }
    }

    /// Submits what is left; `next()` returns nil after the last piece. Rethrows a worker's failure.
    public func close() throws {
        guard !closed else { return }
        if !pending.isEmpty { try submit() }
        closed = true
        condition.lock()
        inputClosed = true
        condition.broadcast()
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }

    private func submit() throws {
        let input = pending
        let dictionary = lastWindow
        lastWindow = Array(input.suffix(DeflateIndex.windowSize))
        pending = []
        pending.reserveCapacity(pieceSize)
        condition.lock()
        defer { condition.unlock() }
        // Wait while the workers have enough to do, or while the compressed pieces nobody took yet fill the buffer.
        while failure == nil, !stopped, jobs.count >= workerCount || doneBytes >= bufferLimit {
            condition.wait()
        }
        if let failure { throw failure }
        if stopped { throw DeflateError(input: name, message: "compression was stopped") }
        jobs.append(Job(sequence: submitted, input: input, dictionary: dictionary))
        submitted += 1
        condition.broadcast()
    }

    // MARK: consumer

    /// The next piece in order, waiting for it; nil once every piece of a closed input was taken.
    public func next() throws -> Piece? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure { throw failure }
            if let piece = done.removeValue(forKey: delivered) {
                delivered += 1
                doneBytes -= piece.deflated.count
                condition.broadcast()
                return piece
            }
            if stopped { throw DeflateError(input: name, message: "compression was stopped") }
            if inputClosed, delivered == submitted { return nil }
            condition.wait()
        }
    }

    /// Stops the workers and drops what is queued (after a failure elsewhere); a waiting `write` or `next`
    /// throws. Returns once every worker has stopped.
    public func abandon() {
        condition.lock()
        stopped = true
        jobs.removeAll()
        done.removeAll()
        doneBytes = 0
        condition.broadcast()
        while workersRunning > 0 { condition.wait() }
        condition.unlock()
    }

    // MARK: workers

    private func work() {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let started = emts_deflate_init_raw(stream, level) == Z_OK
        defer {
            if started { deflateEnd(stream) }
            stream.deallocate()
            condition.lock()
            workersRunning -= 1
            condition.broadcast()
            condition.unlock()
        }
        if !started { fail(DeflateError(input: name, message: "zlib could not start deflating (level \(level))")) }
        // Compressed here, then copied out at its size: a piece waiting in the buffer holds only its own bytes.
        var scratch: [UInt8] = []
        while started {
            condition.lock()
            while jobs.isEmpty, !stopped, !inputClosed { condition.wait() }
            if stopped || jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.broadcast()
            condition.unlock()
            let result: Result<Piece, DeflateError>
            do { result = .success(try compress(job, with: stream, scratch: &scratch)) } catch { result = .failure(error) }
            condition.lock()
            switch result {
            case .success(let piece):
                if !stopped {
                    done[job.sequence] = piece
                    doneBytes += piece.deflated.count
                }
            case .failure(let error):
                if failure == nil { failure = error }
            }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Ends the stream with `error` (the producer's own failure): a waiting or later `next()` throws it.
    public func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    private func compress(_ job: Job, with stream: UnsafeMutablePointer<z_stream>,
                          scratch output: inout [UInt8]) throws(DeflateError) -> Piece {
        guard deflateReset(stream) == Z_OK else {
            throw DeflateError(input: name, message: "zlib could not reset its deflater")
        }
        if !job.dictionary.isEmpty {
            let code = job.dictionary.withUnsafeBufferPointer {
                deflateSetDictionary(stream, $0.baseAddress, UInt32($0.count))
            }
            guard code == Z_OK else { throw DeflateError(input: name, message: "zlib refused the dictionary (\(code))") }
        }
        // The bound covers the blocks; the sync flush adds an empty stored block. Grown if ever short.
        let bound = Int(deflateBound(stream, UInt(job.input.count))) + 64
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        var produced = 0
        var code = Z_OK
        job.input.withUnsafeBytes { input in
            stream.pointee.next_in = input.isEmpty ? nil
                : UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = UInt32(input.count)
            while true {
                if produced == output.count { output += [UInt8](repeating: 0, count: 1 << 16) }
                code = output.withUnsafeMutableBytes { out in
                    stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                    stream.pointee.avail_out = UInt32(out.count - produced)
                    let code = deflate(stream, Z_SYNC_FLUSH)
                    produced = out.count - Int(stream.pointee.avail_out)
                    return code
                }
                // Done when zlib had room left over: everything, the flush included, is out.
                if code != Z_OK || produced < output.count { break }
            }
            stream.pointee.next_in = nil
        }
        guard code == Z_OK || code == Z_BUF_ERROR, stream.pointee.avail_in == 0 else {
            throw DeflateError(input: name, message: "zlib deflate failed on a piece (\(code))")
        }
        let crc = job.input.withUnsafeBytes { CRC32.update(0, $0) }
        return Piece(deflated: Array(output[0 ..< produced]), length: job.input.count, crc: crc)
    }
}
