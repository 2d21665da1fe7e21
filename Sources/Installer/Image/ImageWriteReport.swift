/// What an image write did.
public struct ImageWriteReport: Sendable, Equatable, Codable {
    public var target: String
    /// Decompressed bytes written.
    public var bytesWritten: UInt64
    /// Compressed bytes read (the whole image file).
    public var compressedBytes: UInt64
    /// The verified sha256 of the compressed image.
    public var sha256: String
    public var seconds: Double
    /// The backup GPT was moved to the end of a disk larger than the image.
    public var backupGPTMoved: Bool
    /// The kernel re-read the partition table (block devices).
    public var partitionTableReread: Bool
    /// Things that did not stop the install but should be known.
    public var warnings: [String]

    /// Average write rate in bytes per second.
    public var bytesPerSecond: Double { seconds > 0 ? Double(bytesWritten) / seconds : 0 }
}
