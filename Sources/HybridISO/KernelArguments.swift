/// The install medium's kernel command line: the µOS's required arguments, the consoles, and extras
/// (`--karg`), validated so that no extra drops or contradicts a required argument.
///
/// Rules, checked on the whole line (so a line edited in place later can be checked the same way):
/// - `root=tmpfs`: present, and no other `root=` (the kernel takes the last one);
/// - `rootflags=`: present, and every occurrence includes `mode=0755`, no other `mode=`, and no `size=` or
///   `nr_blocks=`: the µOS unpacks its root filesystem into that tmpfs, and a cap makes the unpack fail late
///   and obscurely (the manifest states the RAM the µOS needs instead). Other tmpfs options are allowed;
/// - `rd.skipfsck`, `noresume`: present; `resume=` contradicts `noresume`;
/// - `modules-load=`: the occurrences (systemd merges them) include `nbd`, and no blacklist names `nbd`
///   (`module_blacklist=`, `modprobe.blacklist=`);
/// - `emts.install=` belongs to the boot menu ("EMT-S shell, no install" appends `emts.install=0`), and so
///   does `emts.medium=` (the medium's build id, for install-os);
/// - arguments are printable ASCII without `"`, `\` or `$`: they are carried inside a GRUB string, and
///   quoted kernel values (with spaces) are not supported.
/// Console arguments are defaults, not requirements: a site may move the serial console.
public struct KernelArguments: Sendable, Equatable {
    /// What the µOS needs to boot.
    public static let required = ["root=tmpfs", "rootflags=mode=0755", "rd.skipfsck", "noresume", "modules-load=nbd"]
    /// Kernel messages and the µOS console on VGA and on the first serial port.
    public static let consoles = ["console=tty0", "console=ttyS0,115200n8"]
    /// Tells install-os not to run: the "EMT-S shell, no install" entry appends it.
    public static let noInstall = "emts.install=0"

    /// The arguments given on top of the required ones and the consoles.
    public let extras: [String]

    /// - Throws: `HybridISOError.invalidKernelArguments` when an extra breaks a rule above.
    public init(extras: [String] = []) throws(HybridISOError) {
        self.extras = extras.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
        try Self.validate(arguments)
    }

    /// Required, consoles, extras, in that order.
    public var arguments: [String] { Self.required + Self.consoles + extras }

    /// The arguments joined by single spaces.
    public var commandLine: String { arguments.joined(separator: " ") }

    /// Checks a whole command line against the rules above.
    public static func validate(commandLine: String) throws(HybridISOError) {
        try validate(commandLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    }

    static func validate(_ arguments: [String]) throws(HybridISOError) {
        func values(_ key: String) -> [String] {
            arguments.compactMap { argument in
                argument.hasPrefix(key + "=") ? String(argument.dropFirst(key.count + 1)) : nil
            }
        }
        func fail(_ reason: String) -> HybridISOError { .invalidKernelArguments(reason) }

        for argument in arguments {
            guard !argument.isEmpty,
                  argument.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"\"\\$".unicodeScalars.contains($0) })
            else { throw fail("\"\(argument)\": only printable ASCII without quotes, '\\' or '$'") }
            if argument.hasPrefix("emts.install=") || argument == "emts.install" {
                throw fail("\(argument): emts.install is set by the boot menu entry, not on the command line")
            }
            if argument.hasPrefix("emts.medium=") || argument == "emts.medium" {
                throw fail("\(argument): emts.medium is set by the boot menu to the medium's build id")
            }
        }

        let roots = values("root")
        guard !roots.isEmpty else { throw fail("root=tmpfs is required") }
        if let other = roots.first(where: { $0 != "tmpfs" }) {
            throw fail("root=\(other) contradicts root=tmpfs")
        }

        let rootflags = values("rootflags")
        guard !rootflags.isEmpty else { throw fail("rootflags=mode=0755 is required") }
        for flags in rootflags {
            let options = flags.split(separator: ",").map(String.init)
            guard options.contains("mode=0755") else { throw fail("rootflags=\(flags) lacks mode=0755") }
            if let mode = options.first(where: { $0.hasPrefix("mode=") && $0 != "mode=0755" }) {
                throw fail("rootflags=\(flags): \(mode) contradicts mode=0755")
            }
            if let cap = options.first(where: { $0.hasPrefix("size=") || $0.hasPrefix("nr_blocks=") }) {
                throw fail("rootflags=\(flags): \(cap) caps the tmpfs the µOS unpacks its root filesystem into")
            }
        }

        for flag in ["rd.skipfsck", "noresume"] where !arguments.contains(flag) {
            throw fail("\(flag) is required")
        }
        if let resume = arguments.first(where: { $0.hasPrefix("resume=") }) {
            throw fail("\(resume) contradicts noresume")
        }

        let modules = values("modules-load").flatMap { $0.split(separator: ",").map(String.init) }
        guard modules.contains("nbd") else { throw fail("modules-load=nbd is required") }
        let blacklisted = (values("module_blacklist") + values("modprobe.blacklist"))
            .flatMap { $0.split(separator: ",").map(String.init) }
        if blacklisted.contains("nbd") { throw fail("blacklisting nbd contradicts modules-load=nbd") }
    }
}
