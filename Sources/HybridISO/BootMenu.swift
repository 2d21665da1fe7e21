import Foundation

/// The GRUB boot menu of the install medium: "Install EMT-S" (default) and "EMT-S shell, no install",
/// rendered from `iso/grub.cfg.template`.
///
/// The kernel command line is not in the menu: the menu sources the kargs file (`KargsArea`), so the
/// command line can be edited in place on a written medium.
public struct BootMenu: Sendable, Equatable {
    /// The template's file name in the top-level `iso/` folder (bundled with the module).
    public static let templateName = "grub.cfg.template"

    /// The menu entries' titles, the same in every boot loader of the medium.
    public static let installTitle = "Install EMT-S"
    public static let shellTitle = "EMT-S shell, no install"
    /// The kernel argument naming the medium's build id, so install-os finds the medium it booted from.
    public static func mediumArgument(buildID: String) -> String { "emts.medium=\(buildID)" }

    /// The shipped template's text, from the module's resources.
    /// - Throws: `HybridISOError.template` if the resource is missing from this build.
    public static func shippedTemplate() throws(HybridISOError) -> String {
        try shippedTemplate(named: templateName)
    }

    /// A shipped template (`iso/<name>`) from the module's resources.
    public static func shippedTemplate(named name: String) throws(HybridISOError) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Templates"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw .template("\(name) is missing from emts-iso's resources (the build is incomplete)")
        }
        return text
    }

    /// Seconds before the default entry boots.
    public var timeout: Int = 5
    public var kernelPath: String = "/boot/vmlinuz"
    public var initramfsPath: String = "/boot/initramfs.img"
    public var kargsPath: String = KargsArea.path
    public var serialSpeed: Int = 115_200
    /// The medium's build id, passed to the kernel as `emts.medium=`.
    public var buildID: String

    public init(buildID: String) {
        self.buildID = buildID
    }

    /// The placeholder values this menu fills in.
    public var values: [String: String] {
        [
            "timeout": String(timeout),
            "kernel": kernelPath,
            "initramfs": initramfsPath,
            "kargs_path": kargsPath,
            "serial_speed": String(serialSpeed),
            "no_install_karg": KernelArguments.noInstall,
            "medium_karg": Self.mediumArgument(buildID: buildID),
            "install_title": Self.installTitle,
            "shell_title": Self.shellTitle,
        ]
    }

    /// Renders `template` (the text of `iso/grub.cfg.template`) with this menu's values.
    /// - Throws: `HybridISOError.template` for a placeholder without a value or a malformed one.
    public func render(template: String) throws(HybridISOError) -> String {
        guard timeout >= 0 else { throw .template("timeout \(timeout) is negative") }
        return try Self.render(template, values: values)
    }

    /// Replaces every `{{name}}` in `template` by `values[name]`. Names are lower-case letters, digits and
    /// '_'; a name without a value, an unterminated `{{` or a stray `}}` is an error, never left as is.
    public static func render(_ template: String, values: [String: String]) throws(HybridISOError) -> String {
        var output = ""
        var rest = template[...]
        var unknown: [String] = []
        while let open = rest.range(of: "{{") {
            let before = rest[..<open.lowerBound]
            guard !before.contains("}}") else { throw .template("\"}}\" without \"{{\"") }
            output += before
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { throw .template("unterminated \"{{\"") }
            let name = String(rest[..<close.lowerBound])
            guard !name.isEmpty,
                  name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
            else { throw .template("malformed placeholder \"{{\(name)}}\"") }
            if let value = values[name] { output += value } else { unknown.append(name) }
            rest = rest[close.upperBound...]
        }
        guard !rest.contains("}}") else { throw .template("\"}}\" without \"{{\"") }
        guard unknown.isEmpty else {
            throw .template("no value for " + unknown.map { "{{\($0)}}" }.joined(separator: ", "))
        }
        return output + rest
    }
}

/// The systemd-boot menu of the `--secure-boot sign` ESP: the same two entries as the GRUB menu, both
/// starting the one signed unified kernel image, rendered from `iso/loader.conf.template` and
/// `iso/loader-entry.conf.template`.
///
/// Under Secure Boot the image's stub ignores the entries' `options` (its own signed command line wins),
/// so the shell entry cannot add `emts.install=0` there: install-os also reads systemd-boot's
/// `LoaderEntrySelected` EFI variable and stays off when it names `shellEntry`. Without Secure Boot the
/// stub takes `options` as the whole command line, so both entries carry the full line.
public struct LoaderMenu: Sendable, Equatable {
    public static let installEntry = "emts-install.conf"
    public static let shellEntry = "emts-shell.conf"
    /// Where the signed unified kernel image lives in the ESP (not in `/EFI/Linux`, where systemd-boot
    /// would list it a third time).
    public static let imagePath = "/EFI/emts/emt-s.efi"

    public var timeout: Int = 5
    /// The command line of the install entry (the signed one), `emts.medium=` included.
    public var commandLine: String

    public init(commandLine: String) {
        self.commandLine = commandLine
    }

    /// `loader/loader.conf` and `loader/entries/*.conf`, as files for the ESP.
    public func files() throws(HybridISOError) -> [FATImage.File] {
        guard timeout >= 0 else { throw .template("timeout \(timeout) is negative") }
        let loader = try BootMenu.render(try BootMenu.shippedTemplate(named: "loader.conf.template"),
                                         values: ["timeout": String(timeout), "default_entry": Self.installEntry])
        let entry = try BootMenu.shippedTemplate(named: "loader-entry.conf.template")
        let install = try BootMenu.render(entry, values: ["title": BootMenu.installTitle, "image": Self.imagePath,
                                                          "options": commandLine])
        let shell = try BootMenu.render(entry, values: ["title": BootMenu.shellTitle, "image": Self.imagePath,
                                                        "options": commandLine + " " + KernelArguments.noInstall])
        return [
            FATImage.File(path: "loader/loader.conf", source: .bytes(Array(loader.utf8))),
            FATImage.File(path: "loader/entries/" + Self.installEntry, source: .bytes(Array(install.utf8))),
            FATImage.File(path: "loader/entries/" + Self.shellEntry, source: .bytes(Array(shell.utf8))),
        ]
    }
}
