import Foundation

/// How the ISO's UEFI boot path passes Secure Boot (`--secure-boot`).
public enum SecureBootMode: Sendable, Equatable, CustomStringConvertible {
    /// Our own GRUB, unsigned: boots UEFI machines with Secure Boot off.
    case none
    /// A distribution's Microsoft-signed shim starts its distribution-signed GRUB, which verifies the kernel
    /// through shim: boots machines that trust Microsoft's UEFI CA, when the kernel is signed by a key that
    /// shim trusts (Debian's shim and a Debian kernel, or a vendor's shim and its kernel).
    case shim(ShimLoaders)
    /// systemd-boot and a unified kernel image (kernel, initramfs and command line in one PE), both signed
    /// with the user's key: boots machines whose firmware trusts that key.
    case sign(SigningIdentity)

    /// The name `--secure-boot` takes.
    public var name: String {
        switch self {
        case .none: "none"
        case .shim: "shim"
        case .sign: "sign"
        }
    }

    public var description: String { name }

    /// Checks, before any work, that every file and tool this mode needs is there, naming what is missing
    /// and the Debian package that provides it.
    public func preflight() throws(HybridISOError) {
        switch self {
        case .none:
            return
        case let .shim(loaders):
            try loaders.check()
            _ = try ExternalTool.sbverify.locate()
        case let .sign(identity):
            try identity.checkReadable()
            for (path, package) in [(UnifiedKernelImage.debianStub, "systemd-boot-efi"),
                                    (HybridISOBuild.systemdBoot, "systemd-boot-efi")]
            where !FileManager.default.isReadableFile(atPath: path) {
                throw .io(path: path, step: "preparing --secure-boot sign", reason: "not found: install \(package)")
            }
            for tool in [ExternalTool.sbsign, .sbverify, .objcopy] { _ = try tool.locate() }
        }
    }
}

/// The signed loaders of the `shim` mode. Defaults: Debian's `shim-signed` and `grub-efi-amd64-signed`.
public struct ShimLoaders: Sendable, Equatable {
    /// Becomes `EFI/BOOT/BOOTX64.EFI`.
    public var shim: String
    /// The distribution-signed GRUB shim starts: `EFI/BOOT/grubx64.efi`.
    public var grub: String
    /// Shim's MokManager, started when a key must be enrolled: `EFI/BOOT/mmx64.efi`.
    public var mokManager: String

    public static let debian = ShimLoaders(shim: "/usr/lib/shim/shimx64.efi.signed",
                                           grub: "/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
                                           mokManager: "/usr/lib/shim/mmx64.efi.signed")

    public init(shim: String, grub: String, mokManager: String) {
        self.shim = shim
        self.grub = grub
        self.mokManager = mokManager
    }

    /// Checks every loader is a readable file, naming the Debian package for the defaults.
    public func check() throws(HybridISOError) {
        let packages = [Self.debian.shim: "shim-signed", Self.debian.grub: "grub-efi-amd64-signed",
                        Self.debian.mokManager: "shim-signed"]
        for (role, path) in [("shim", shim), ("signed GRUB", grub), ("MokManager", mokManager)]
        where !FileManager.default.isReadableFile(atPath: path) {
            let hint = packages[path].map { ": install \($0)" } ?? ""
            throw .io(path: path, step: "reading the \(role) for --secure-boot shim", reason: "not found\(hint)")
        }
    }
}

/// The user's signing key and certificate (PEM) for the `sign` mode, used through sbsigntool.
public struct SigningIdentity: Sendable, Equatable {
    public var key: String
    public var certificate: String

    public init(key: String, certificate: String) {
        self.key = key
        self.certificate = certificate
    }

    /// Signs the PE image `input` into `output` (a new file) and checks the signature with `sbverify`.
    /// - Throws: `HybridISOError.toolMissing` (sbsigntool), `.toolFailed` naming the image and the key.
    public func sign(_ input: String, to output: String, what: String) throws(HybridISOError) {
        try checkReadable()
        try ExternalTool.sbsign.run(["--key", key, "--cert", certificate, "--output", output, input],
                                    step: "signing \(what) with \(key)")
        try ExternalTool.sbverify.run(["--cert", certificate, output],
                                      step: "verifying the signature of \(what) against \(certificate)")
    }
}

extension SigningIdentity {
    func checkReadable() throws(HybridISOError) {
        for (role, path) in [("signing key", key), ("signing certificate", certificate)]
        where !FileManager.default.isReadableFile(atPath: path) {
            throw .io(path: path, step: "reading the \(role) for --secure-boot sign", reason: "not found or unreadable")
        }
    }

    /// The test key Debian's ovmf package ships, which its `OVMF_VARS_4M.snakeoil.fd` variable store trusts:
    /// for trying `--secure-boot sign` in QEMU, never for real machines. The key is stored encrypted (pass
    /// phrase "snakeoil"); it is decrypted into `directory` for sbsign.
    public static func ovmfSnakeoil(decryptingInto directory: String) throws(HybridISOError) -> SigningIdentity {
        let key = directory + "/PkKek-1-snakeoil.key"
        try ExternalTool.openssl.run(["pkey", "-in", "/usr/share/ovmf/PkKek-1-snakeoil.key", "-passin", "pass:snakeoil",
                                      "-out", key], step: "decrypting OVMF's snakeoil key (install ovmf)")
        return SigningIdentity(key: key, certificate: "/usr/share/ovmf/PkKek-1-snakeoil.pem")
    }
}

extension ShimLoaders {
    /// Whether `kernel` carries an Authenticode signature (`sbverify --list`). Under `shim`, an unsigned
    /// kernel is refused at boot when Secure Boot is on; the builder warns about it.
    public static func kernelIsSigned(_ kernel: String) -> Bool {
        guard let output = try? ExternalTool.sbverify.run(["--list", kernel], step: "listing \(kernel)'s signatures")
        else { return false }
        let text = String(decoding: output.standardOutput, as: UTF8.self)
        return text.contains("signature 1")
    }
}
