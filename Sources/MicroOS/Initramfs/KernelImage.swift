/// What the `--kernel` input says about itself in its x86 boot header.
public struct KernelInfo: Codable, Sendable, Hashable {
    /// The full version string ("6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP ... Debian 6.1.76-1 ...").
    public var version: String
    /// The first word of `version`: the release `uname -r` reports and `/lib/modules/<release>` is named after.
    public var release: String
    /// Boot protocol version, e.g. 0x020F for 2.15.
    public var bootProtocol: UInt16
    public var fileSize: Int64

    public init(version: String, release: String, bootProtocol: UInt16, fileSize: Int64) {
        self.version = version
        self.release = release
        self.bootProtocol = bootProtocol
        self.fileSize = fileSize
    }

    /// "2.15".
    public var bootProtocolString: String { "\(bootProtocol >> 8).\(bootProtocol & 0xFF)" }
}

/// Validation of an x86 bzImage (Documentation/arch/x86/boot.rst).
public enum KernelImage {
    /// The boot protocol this tool needs at least: 2.00 introduced the kernel version pointer.
    static let minimumProtocol: UInt16 = 0x0200
    /// Longest version string accepted before its NUL.
    static let versionLimit = 512

    /// Reads the setup header of the bzImage at `path`.
    /// - Throws: `KernelImageError` naming the path: not a bzImage, too old a boot protocol, or a version
    ///   string outside the setup code or not NUL-terminated.
    public static func inspect(path: String) throws -> KernelInfo {
        func fail(_ message: String) -> KernelImageError { KernelImageError(path: path, message: message) }
        let file: InitramfsFile
        do {
            file = try InitramfsFile(path: path)
        } catch let error as InitramfsError {
            throw fail(error.message)
        }
        let header = try readBytes(file, at: 0, count: 0x268, path: path)
        guard header.count >= 0x210, Array(header[0x202 ..< 0x206]) == Array("HdrS".utf8) else {
            throw fail("not a bzImage: no HdrS signature at 0x202 (\(file.size) bytes)")
        }
        let bootProtocol = UInt16(header.initramfsLE(0x206, bytes: 2))
        guard bootProtocol >= minimumProtocol else {
            throw fail("boot protocol \(bootProtocol >> 8).\(bootProtocol & 0xFF) is older than 2.00: no version string")
        }
        // setup_sects 0 means 4; the setup code (boot sector included) is (setup_sects + 1) * 512 bytes.
        let setupSectors = header[0x1F1] == 0 ? 4 : Int64(header[0x1F1])
        let setupEnd = min((setupSectors + 1) * 512, file.size)
        let pointer = Int64(header.initramfsLE(0x20E, bytes: 2))
        let versionOffset = pointer + 0x200
        guard pointer != 0, versionOffset < setupEnd else {
            throw fail("kernel version pointer 0x\(String(pointer, radix: 16)) at 0x20E points outside the setup code "
                           + "(which ends at byte \(setupEnd))")
        }
        let raw = try readBytes(file, at: versionOffset, count: Int(min(Int64(versionLimit), setupEnd - versionOffset)),
                                path: path)
        guard let nul = raw.firstIndex(of: 0) else {
            throw fail("kernel version string at byte \(versionOffset) has no NUL within \(raw.count) bytes")
        }
        let version = String(decoding: raw[..<nul], as: UTF8.self)
        let release = version.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        guard !release.isEmpty else { throw fail("kernel version string at byte \(versionOffset) is empty") }
        return KernelInfo(version: version, release: release, bootProtocol: bootProtocol, fileSize: file.size)
    }

    private static func readBytes(_ file: InitramfsFile, at offset: Int64, count: Int, path: String) throws -> [UInt8] {
        do {
            return try file.bytes(at: offset, count: count)
        } catch let error as InitramfsError {
            throw KernelImageError(path: path, message: error.message)
        }
    }
}
