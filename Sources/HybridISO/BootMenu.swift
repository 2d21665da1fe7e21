import Foundation

/// The GRUB boot menu of the install medium: "Install EMT-S" (default) and "EMT-S shell, no install",
/// rendered from `iso/grub.cfg.template`.
///
/// The kernel command line is not in the menu: the menu sources the kargs file (`KargsArea`), so the
/// command line can be edited in place on a written medium.
public struct BootMenu: Sendable, Equatable {
    /// The template's file name in the top-level `iso/` folder (bundled with the module).
    public static let templateName = "grub.cfg.template"

    /// The shipped template's text, from the module's resources.
    /// - Throws: `HybridISOError.template` if the resource is missing from this build.
    public static func shippedTemplate() throws(HybridISOError) -> String {
        guard let url = Bundle.module.url(forResource: templateName, withExtension: nil, subdirectory: "Templates"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw .template("\(templateName) is missing from emts-iso's resources (the build is incomplete)")
        }
        return text
    }

    /// Seconds before the default entry boots.
    public var timeout: Int = 5
    public var kernelPath: String = "/boot/vmlinuz"
    public var initramfsPath: String = "/boot/initramfs.img"
    public var kargsPath: String = KargsArea.path
    public var serialSpeed: Int = 115_200

    public init() {}

    /// The placeholder values this menu fills in.
    public var values: [String: String] {
        [
            "timeout": String(timeout),
            "kernel": kernelPath,
            "initramfs": initramfsPath,
            "kargs_path": kargsPath,
            "serial_speed": String(serialSpeed),
            "no_install_karg": KernelArguments.noInstall,
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
