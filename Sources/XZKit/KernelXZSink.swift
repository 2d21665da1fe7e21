import CLZMA
import StreamKit

/// A liblzma failure, naming the stream and liblzma's code.
public struct XZError: Error, CustomStringConvertible, Sendable {
    public var stream: String
    public var operation: String
    public var code: UInt32

    public var description: String { "\(stream): xz \(operation) failed (liblzma code \(code))" }
}

/// Compresses into xz the way the Linux kernel's decoder accepts it: CRC32 integrity checks (the kernel's
/// XZ decoder knows no CRC64, which is what libarchive's xz writer always uses), LZMA2 at `preset`.
public final class KernelXZSink: ByteSink {
    private var stream = emts_lzma_stream_init()
    private let downstream: any ByteSink
    private let name: String
    private let output: UnsafeMutablePointer<UInt8>
    private let outputSize = 1 << 20
    private var finished = false

    /// - Parameter preset: 0-9, xz's `-0` … `-9` (6 is xz's default).
    /// - Throws: `XZError` if liblzma cannot set up the encoder.
    public init(into downstream: any ByteSink, name: String, preset: UInt32 = 6) throws {
        self.downstream = downstream
        self.name = name
        output = .allocate(capacity: outputSize)
        let code = lzma_easy_encoder(&stream, preset, LZMA_CHECK_CRC32)
        guard code == LZMA_OK else {
            output.deallocate()
            throw XZError(stream: name, operation: "encoder setup", code: code.rawValue)
        }
    }

    deinit {
        lzma_end(&stream)
        output.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.next_in = base.assumingMemoryBound(to: UInt8.self)
        stream.avail_in = bytes.count
        while stream.avail_in > 0 {
            try run(LZMA_RUN)
        }
    }

    /// Flushes the encoder and writes the stream's end. Later calls do nothing.
    public func close() throws {
        guard !finished else { return }
        finished = true
        stream.next_in = nil
        stream.avail_in = 0
        while try run(LZMA_FINISH) != LZMA_STREAM_END {}
    }

    @discardableResult
    private func run(_ action: lzma_action) throws -> lzma_ret {
        stream.next_out = output
        stream.avail_out = outputSize
        let code = lzma_code(&stream, action)
        guard code == LZMA_OK || code == LZMA_STREAM_END else {
            throw XZError(stream: name, operation: "compression", code: code.rawValue)
        }
        let produced = outputSize - stream.avail_out
        if produced > 0 { try downstream.write(UnsafeRawBufferPointer(start: output, count: produced)) }
        return code
    }
}
