/// A pull source of bytes: the input side of a streaming pipeline.
public protocol ByteSource: AnyObject {
    /// Fills the start of `buffer` and returns how many bytes were written; 0 means end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads to the end of the source into memory; `tooLarge` makes the error once more than `limit` bytes came.
    public func readAll(limit: Int, tooLarge: () -> any Error) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            guard result.count + count <= limit else { throw tooLarge() }
            result.append(contentsOf: chunk[0 ..< count])
        }
    }
}

/// A push sink of bytes: the output side of a streaming pipeline.
public protocol ByteSink: AnyObject {
    /// Consumes all of `bytes`, or throws.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// A source over bytes already in memory.
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { raw in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset ..< offset + count]))
        }
        offset += count
        return count
    }
}

/// A sink that collects bytes in memory (tests and small archives).
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
}
