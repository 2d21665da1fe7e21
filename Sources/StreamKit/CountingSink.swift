/// Passes bytes through to another sink and counts them, optionally reporting progress.
public final class CountingSink: ByteSink {
    private let downstream: any ByteSink
    private let onProgress: ((Int64) -> Void)?
    public private(set) var count: Int64 = 0

    public init(_ downstream: any ByteSink, onProgress: ((Int64) -> Void)? = nil) {
        self.downstream = downstream
        self.onProgress = onProgress
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try downstream.write(bytes)
        count += Int64(bytes.count)
        onProgress?(count)
    }
}

/// Discards bytes, counting them: the floor of a pipeline, and a way to measure a stream's length.
public final class NullSink: ByteSink {
    public private(set) var count: Int64 = 0

    public init() {}

    public func write(_ bytes: UnsafeRawBufferPointer) throws { count += Int64(bytes.count) }
}
