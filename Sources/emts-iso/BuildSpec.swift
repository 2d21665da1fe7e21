import Foundation
import Installer

/// `emts-iso build --spec FILE.yaml`: every build input in one file, for release pipelines. Relative paths
/// are resolved against the file's directory; options given on the command line override the file's values.
///
/// ```yaml
/// kernel: uos/vmlinuz                  # or uos_tarball: emt-uos.tar.gz
/// initramfs: uos/initramfs.img
/// output: out/emt-s.iso
/// disable_units: [tink-worker.service, caddy.service, fluent-bit.service, device-discovery.service]
/// add: ["files/motd:/etc/motd"]
/// compression: gzip
/// nested_name: rootfs.tar.gz
/// kargs: [quiet]
/// os_image: images/emt.raw.gz
/// installer_config: installer.yaml
/// user_apps: apps/                     # carried as /user-apps/, copied to the installed persistent partition
/// installer: bin/install-os              # or `installer: none` for a medium without it
/// packages: debs/
/// install: [efibootmgr, gawk, lvm2, net-tools, parted]
/// allow_missing_deps: false
/// secure_boot: sign                    # none | shim | sign
/// shim: /usr/lib/shim/shimx64.efi.signed
/// signed_grub: /usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
/// mok_manager: /usr/lib/shim/mmx64.efi.signed
/// sign_key: keys/db.key
/// sign_cert: keys/db.pem
/// source_date_epoch: 1700000000        # SOURCE_DATE_EPOCH in the environment wins
/// ```
struct BuildSpec: Decodable, Equatable {
    enum Key: String, CodingKey, CaseIterable {
        case kernel, initramfs, uosTarball = "uos_tarball", output, disableUnits = "disable_units", add, compression
        case nestedName = "nested_name", kargs, osImage = "os_image", installerConfig = "installer_config"
        case installer, userApps = "user_apps"
        case packages, install, allowMissingDeps = "allow_missing_deps", secureBoot = "secure_boot", shim
        case signedGrub = "signed_grub", mokManager = "mok_manager", signKey = "sign_key", signCert = "sign_cert"
        case sourceDateEpoch = "source_date_epoch"
    }

    var kernel: String?
    var initramfs: String?
    var uosTarball: String?
    var output: String?
    var disableUnits: [String]?
    var add: [String]?
    var compression: String?
    var nestedName: String?
    var kargs: [String]?
    var osImage: String?
    var installerConfig: String?
    var installer: String?
    var userApps: String?
    var packages: String?
    var install: [String]?
    var allowMissingDeps: Bool?
    var secureBoot: String?
    var shim: String?
    var signedGrub: String?
    var mokManager: String?
    var signKey: String?
    var signCert: String?
    var sourceDateEpoch: Int64?

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: Key.self)
        kernel = try container.decodeIfPresent(String.self, forKey: .kernel)
        initramfs = try container.decodeIfPresent(String.self, forKey: .initramfs)
        uosTarball = try container.decodeIfPresent(String.self, forKey: .uosTarball)
        output = try container.decodeIfPresent(String.self, forKey: .output)
        disableUnits = try container.decodeIfPresent([String].self, forKey: .disableUnits)
        add = try container.decodeIfPresent([String].self, forKey: .add)
        compression = try container.decodeIfPresent(String.self, forKey: .compression)
        nestedName = try container.decodeIfPresent(String.self, forKey: .nestedName)
        kargs = try container.decodeIfPresent([String].self, forKey: .kargs)
        osImage = try container.decodeIfPresent(String.self, forKey: .osImage)
        installerConfig = try container.decodeIfPresent(String.self, forKey: .installerConfig)
        installer = try container.decodeIfPresent(String.self, forKey: .installer)
        userApps = try container.decodeIfPresent(String.self, forKey: .userApps)
        packages = try container.decodeIfPresent(String.self, forKey: .packages)
        install = try container.decodeIfPresent([String].self, forKey: .install)
        allowMissingDeps = try container.decodeIfPresent(Bool.self, forKey: .allowMissingDeps)
        secureBoot = try container.decodeIfPresent(String.self, forKey: .secureBoot)
        if let secureBoot, !["none", "shim", "sign"].contains(secureBoot) {
            throw container.invalid(.secureBoot, "none, shim or sign")
        }
        shim = try container.decodeIfPresent(String.self, forKey: .shim)
        signedGrub = try container.decodeIfPresent(String.self, forKey: .signedGrub)
        mokManager = try container.decodeIfPresent(String.self, forKey: .mokManager)
        signKey = try container.decodeIfPresent(String.self, forKey: .signKey)
        signCert = try container.decodeIfPresent(String.self, forKey: .signCert)
        sourceDateEpoch = try container.decodeIfPresent(Int64.self, forKey: .sourceDateEpoch)
        if let add, let bad = add.first(where: { !$0.contains(":") }) {
            throw container.invalid(.add, "FILE:DEST entries (got \(bad))")
        }
    }

    /// Reads the spec at `path`, resolving its relative paths against the file's directory.
    /// - Throws: `InstallerConfigError` naming the file, the key and its line.
    static func read(_ path: String) throws -> BuildSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InstallerConfigError.unreadable(file: path, reason: "cannot read it")
        }
        var spec = try InstallerConfigFile.decode(BuildSpec.self, yaml: String(decoding: data, as: UTF8.self), path: path)
            ?? BuildSpec()
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ value: String?) -> String? {
            guard let value, !value.isEmpty, !value.hasPrefix("/") else { return value }
            return base.appendingPathComponent(value).standardizedFileURL.path
        }
        spec.kernel = resolve(spec.kernel)
        spec.initramfs = resolve(spec.initramfs)
        spec.uosTarball = resolve(spec.uosTarball)
        spec.output = resolve(spec.output)
        spec.osImage = resolve(spec.osImage)
        spec.installerConfig = resolve(spec.installerConfig)
        spec.userApps = resolve(spec.userApps)
        if spec.installer != "none" { spec.installer = resolve(spec.installer) }
        spec.packages = resolve(spec.packages)
        spec.shim = resolve(spec.shim)
        spec.signedGrub = resolve(spec.signedGrub)
        spec.mokManager = resolve(spec.mokManager)
        spec.signKey = resolve(spec.signKey)
        spec.signCert = resolve(spec.signCert)
        spec.add = spec.add?.map { entry in
            guard let colon = entry.firstIndex(of: ":") else { return entry }
            return (resolve(String(entry[..<colon])) ?? "") + entry[colon...]
        }
        return spec
    }
}
