/// Where an image write stands: compressed bytes read of the total, and bytes decompressed so far.
public struct WriteProgress: Sendable, Equatable {
    public var compressedRead: UInt64
    public var compressedTotal: UInt64
    public var bytesOut: UInt64

    public init(compressedRead: UInt64, compressedTotal: UInt64, bytesOut: UInt64) {
        self.compressedRead = compressedRead
        self.compressedTotal = compressedTotal
        self.bytesOut = bytesOut
    }

    /// 0...1, from the compressed bytes read.
    public var fraction: Double {
        compressedTotal == 0 ? 0 : min(1, Double(compressedRead) / Double(compressedTotal))
    }
}
