import Foundation

/// The firmware a test machine boots with.
public enum Firmware: String, Sendable, CaseIterable, Codable {
    /// SeaBIOS, QEMU's default legacy BIOS.
    case bios
    /// OVMF (UEFI) without Secure Boot.
    case uefi
    /// OVMF with Secure Boot enforced, enrolled with Microsoft's keys (what real machines trust).
    case uefiSecure = "uefi-secure"
    /// OVMF with Secure Boot enforced, enrolled with Debian's "snakeoil" test key (own-key signing).
    case uefiSnakeoil = "uefi-snakeoil"

    /// Where Debian's ovmf package installs its images.
    public static let ovmfDirectory = "/usr/share/OVMF"

    public var isUEFI: Bool { self != .bios }
    public var enforcesSecureBoot: Bool { self == .uefiSecure || self == .uefiSnakeoil }

    /// The read-only code image and the template of the variable store, nil for SeaBIOS.
    public var images: (code: String, varsTemplate: String)? {
        let dir = Self.ovmfDirectory
        switch self {
        case .bios: return nil
        case .uefi: return ("\(dir)/OVMF_CODE_4M.fd", "\(dir)/OVMF_VARS_4M.fd")
        case .uefiSecure: return ("\(dir)/OVMF_CODE_4M.secboot.fd", "\(dir)/OVMF_VARS_4M.ms.fd")
        case .uefiSnakeoil: return ("\(dir)/OVMF_CODE_4M.secboot.fd", "\(dir)/OVMF_VARS_4M.snakeoil.fd")
        }
    }

    /// Checks the firmware files are installed.
    /// - Throws: `BootTestError.missingTool` saying which package provides them.
    public func checkInstalled() throws {
        guard let images else { return }
        for path in [images.code, images.varsTemplate] where !FileManager.default.fileExists(atPath: path) {
            throw BootTestError.missingTool("\(path) (firmware \(rawValue)); install it with: apt-get install ovmf")
        }
    }
}
