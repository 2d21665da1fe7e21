import Foundation

/// The two GRUB core images of the hybrid ISO, assembled with `grub-mkimage` from Debian's GRUB modules.
///
/// Both images embed every module the boot menu needs, so the ISO carries no GRUB module directory, and
/// both embed the same early config: find the medium by its build-id tag file, then load
/// `<prefix>/grub.cfg` from it. That works from a CD (ISO 9660), from a dd'd USB stick (where UEFI
/// firmware starts GRUB from the appended ESP, not from the ISO tree) and with BIOS, whatever device GRUB
/// first picked as root.
///
/// `grub-mkimage` output is byte-identical for identical inputs (no timestamps are embedded; checked in tests).
public struct GrubImages: Sendable {
    /// Unique id of this build; the medium carries an empty file at `mediumTagPath`.
    public var buildID: String
    /// Where `grub.cfg` lives on the medium.
    public var prefix: String = "/boot/grub"
    /// Modules embedded in the BIOS El Torito image.
    public var biosModules: [String] = GrubImages.biosModules
    /// Modules embedded in the UEFI image.
    public var uefiModules: [String] = GrubImages.uefiModules
    /// Where GRUB's platform directories (`i386-pc`, `x86_64-efi`) are installed.
    public var moduleRoot: String = "/usr/lib/grub"

    /// Modules common to both platforms:
    /// - `iso9660`: the ISO tree holding grub.cfg, kargs.cfg, kernel and initramfs;
    /// - `part_msdos`, `part_gpt`: the hybrid stick has an MBR and a GPT, and `search` must look inside them;
    /// - `fat`: the appended ESP (UEFI GRUB's own device on a stick) and the config partition;
    /// - `normal` (menu, scripting), `configfile` (`configfile` and `source`), `search` (`--file`, `--label`),
    ///   `test` (`if [ ... ]`), `echo`: the early config and the menu;
    /// - `linux`: boots the kernel and initramfs; the kernel decompresses itself and the initramfs is loaded
    ///   without decompression, so no `gzio`/`xzio`;
    /// - `serial`, `terminal`: menu on VGA and on ttyS0 at 115200 (`terminal_input`/`terminal_output`);
    /// - `ls`, `cat`: a field engineer at the GRUB prompt can see what the medium holds.
    public static let commonModules = [
        "iso9660", "part_msdos", "part_gpt", "fat",
        "normal", "configfile", "search", "test", "echo",
        "linux", "serial", "terminal", "ls", "cat",
    ]
    /// BIOS adds `biosdisk` (INT 13h disk access for CD and stick). No video modules: GRUB and Linux use VGA
    /// text mode.
    public static let biosModules = ["biosdisk"] + commonModules
    /// UEFI disk access is built into the EFI kernel image; `all_video` (GOP/UGA) hands Linux a framebuffer
    /// so the VGA console stays visible after the kernel takes over.
    public static let uefiModules = commonModules + ["all_video"]

    public init(buildID: String) {
        self.buildID = buildID
    }

    /// The empty file the ISO writer must put on the medium so the early config can find it.
    public var mediumTagPath: String { "/.disk/emts-iso-\(buildID)" }

    /// The config embedded in both images (`grub-mkimage -c`).
    public var earlyConfig: String {
        // GRUB runs an embedded config with its rescue parser: no if/else. Once it ends, GRUB starts `normal`,
        // which reads $prefix/grub.cfg; if the search failed, `normal` says so and GRUB stops at its prompt.
        """
        search --no-floppy --set=root --file \(mediumTagPath)
        set prefix=($root)\(prefix)

        """
    }

    /// Writes the BIOS El Torito image (`i386-pc-eltorito`: cdboot.img + core.img) to `path`.
    public func buildBIOSImage(to path: String) throws(HybridISOError) {
        try build(format: "i386-pc-eltorito", platform: "i386-pc", package: "grub-pc-bin",
                  modules: biosModules, to: path)
    }

    /// Writes the UEFI x86_64 image (a PE32+ EFI application, to become `EFI/BOOT/BOOTX64.EFI`) to `path`.
    public func buildUEFIImage(to path: String) throws(HybridISOError) {
        try build(format: "x86_64-efi", platform: "x86_64-efi", package: "grub-efi-amd64-bin",
                  modules: uefiModules, to: path)
    }

    private func build(format: String, platform: String, package: String, modules: [String],
                       to path: String) throws(HybridISOError) {
        try validate(modules: modules)
        let directory = moduleRoot + "/" + platform
        guard FileManager.default.fileExists(atPath: directory + "/moddep.lst") else {
            throw .grubPlatformMissing(platform: platform, directory: directory, package: package)
        }
        for module in modules where !FileManager.default.fileExists(atPath: "\(directory)/\(module).mod") {
            throw .invalidPlan("GRUB module \(module) is not in \(directory)")
        }
        let scratch = try ScratchDirectory(beside: path)
        let config = scratch.file("early.cfg")
        let image = scratch.file("core.img")
        do {
            try Data(earlyConfig.utf8).write(to: URL(fileURLWithPath: config))
        } catch {
            throw .io(path: config, step: "writing GRUB's early config", reason: "\(error)")
        }
        try ExternalTool.grubMkimage.run(
            ["-O", format, "-d", directory, "-p", prefix, "-c", config, "-o", image] + modules,
            step: "assembling the \(platform) GRUB image \(path)")
        try scratch.commit(image, to: path)
    }

    private func validate(modules: [String]) throws(HybridISOError) {
        let safe = { (text: String, extra: String) in
            !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || extra.contains($0)) }
        }
        guard safe(buildID, "._-") else {
            throw .invalidPlan("build id \"\(buildID)\" must be non-empty ASCII letters, digits, '.', '_', '-'")
        }
        guard prefix.hasPrefix("/"), safe(prefix, "/._-") else {
            throw .invalidPlan("GRUB prefix \"\(prefix)\" must be an absolute path of plain characters")
        }
        for module in modules where !safe(module, "_-") {
            throw .invalidPlan("GRUB module name \"\(module)\"")
        }
    }
}
