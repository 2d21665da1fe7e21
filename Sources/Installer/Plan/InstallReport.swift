/// What an install did.
public struct InstallReport: Sendable, Equatable, Encodable {
    public var write: ImageWriteReport
    /// The new UEFI boot entry (`0004`), `nil` under BIOS.
    public var bootEntry: String?
}
