/// Whether install-os runs on this boot.
///
/// It is off when the kernel command line says `emts.install=0` (the boot menu's "EMT-S shell, no install"
/// entry), or when systemd-boot reports that the shell entry was chosen: under Secure Boot the signed
/// kernel image's own command line wins over the menu entry's, so the entry itself is the only sign.
public enum InstallSwitch {
    /// The systemd-boot entry of "EMT-S shell, no install" on a `--secure-boot sign` medium.
    public static let shellLoaderEntries: Set<String> = ["emts-shell.conf", "emts-shell"]
    /// systemd-boot's vendor GUID for its `Loader*` EFI variables.
    static let loaderVendorGUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

    /// Why the installer stays off on this boot, or `nil` when it should run.
    public static func offReason(commandLine: KernelCommandLine, paths: HostPaths) -> String? {
        if !commandLine.installEnabled {
            return "the kernel command line says \(commandLine.installSwitch ?? "emts.install=0")"
        }
        if let entry = selectedLoaderEntry(paths: paths), shellLoaderEntries.contains(entry) {
            return "the boot menu entry \(entry) (\"EMT-S shell, no install\") was chosen"
        }
        return nil
    }

    /// The `LoaderEntrySelected` EFI variable systemd-boot sets: 4 attribute bytes, then a NUL-terminated
    /// UTF-16LE string. `nil` when there is no such variable (GRUB, BIOS, no UEFI).
    static func selectedLoaderEntry(paths: HostPaths) -> String? {
        let path = paths.efiVariablesDirectory + "/LoaderEntrySelected-" + loaderVendorGUID
        guard let contents = SysfsFiles.bytes(path, limit: 4096), contents.count > 4 else { return nil }
        var units: [UInt16] = []
        var index = 4
        while index + 1 < contents.count {
            let unit = UInt16(contents[index]) | UInt16(contents[index + 1]) << 8
            if unit == 0 { break }
            units.append(unit)
            index += 2
        }
        let text = String(decoding: units, as: UTF16.self)
        return text.isEmpty ? nil : text
    }
}
