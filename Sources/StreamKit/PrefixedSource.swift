/// A source whose first bytes were read ahead (to recognise a format) and are handed out again first.
public final class PrefixedSource: ByteSource {
    /// The bytes read ahead: fewer than asked only when the source is that short.
    public let prefix: [UInt8]
    private let source: any ByteSource
    private var offset = 0

    /// Reads up to `count` bytes of `source` ahead.
    public init(peeking count: Int, from source: any ByteSource) throws {
        var prefix = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let read = try prefix.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if read == 0 { break }
            filled += read
        }
        self.prefix = Array(prefix[0 ..< filled])
        self.source = source
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset < prefix.count else { return try source.read(into: buffer) }
        let count = min(buffer.count, prefix.count - offset)
        prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}
