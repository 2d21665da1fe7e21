/// How large a target disk must be, and on what grounds.
///
/// The compressed image does not tell its uncompressed size reliably (gzip's trailer holds it modulo 2^32),
/// so the size comes from the image's own GPT, read from its decompressed first MiB: a disk must hold
/// everything up to the image's backup GPT header. `min_disk_gb`, when set, is a floor on top.
public struct SizeRequirement: Sendable, Equatable, Codable {
    /// The bytes a disk needs, or `nil` when nothing tells.
    public var bytes: UInt64?
    /// Where the figure comes from, for explanations.
    public var basis: String
    /// The sector size the image's partition table is laid out for, when known.
    public var imageSectorSize: Int?

    public init(bytes: UInt64?, basis: String, imageSectorSize: Int? = nil) {
        self.bytes = bytes
        self.basis = basis
        self.imageSectorSize = imageSectorSize
    }

    /// Nothing known: no disk is refused for its size.
    public static let unknown = SizeRequirement(bytes: nil, basis: "the image has no GPT and min_disk_gb is not set")

    /// The larger of what the image's layout needs and `min_disk_gb`.
    public init(layout: ImageLayout?, minDiskBytes: UInt64?) {
        let fromImage = layout.map { ($0.requiredBytes, "the image's GPT ends at byte \($0.requiredBytes)") }
        let fromConfig = minDiskBytes.map { ($0, "min_disk_gb") }
        switch (fromImage, fromConfig) {
        case let (image?, config?):
            self.init(bytes: max(image.0, config.0), basis: image.0 >= config.0 ? image.1 : config.1,
                      imageSectorSize: layout?.sectorSize)
        case let (image?, nil):
            self.init(bytes: image.0, basis: image.1, imageSectorSize: layout?.sectorSize)
        case let (nil, config?):
            self.init(bytes: config.0, basis: config.1 + " (the image has no GPT to measure)")
        case (nil, nil):
            self = .unknown
        }
    }
}
