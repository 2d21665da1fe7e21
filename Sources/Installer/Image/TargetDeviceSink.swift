import StreamKit

/// Writes a stream sequentially to a `TargetDevice` from a start offset, writing back every
/// `writebackInterval` bytes. Runs on the writer thread of a `ThreadedSink`.
final class TargetDeviceSink: ByteSink {
    private let device: TargetDevice
    private let writebackInterval: UInt64
    /// The next byte's offset.
    private(set) var offset: UInt64
    private var writtenBackTo: UInt64

    init(device: TargetDevice, startOffset: UInt64, writebackInterval: UInt64) {
        self.device = device
        self.offset = startOffset
        self.writtenBackTo = startOffset
        self.writebackInterval = writebackInterval
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try device.write(bytes, at: offset)
        offset += UInt64(bytes.count)
        if offset - writtenBackTo >= writebackInterval {
            try device.writeBack(from: writtenBackTo, count: offset - writtenBackTo)
            writtenBackTo = offset
        }
    }
}
