/// The `cloud_init:` section of one configuration file: the custom part of the legacy `config-file`.
///
/// ```yaml
/// cloud_init:
///   services:
///     enable: [docker]
///     disable: [unattended-upgrades]
///   write_files:
///     - path: /etc/motd
///       permissions: "0644"
///       content: "Welcome\n"
///       owner: "root:root"
///   runcmd: ["echo installed > /var/log/first-boot"]
/// ```
public struct CloudInitSection: Sendable, Equatable, Decodable, ConfigSection, CustomStringConvertible {
    public enum Key: String, CodingKey, CaseIterable, Sendable {
        case services
        case writeFiles = "write_files"
        case runcmd
    }

    public var services: ServicesSection?
    public var writeFiles: [WriteFile]?
    public var runcmd: [String]?

    public init(services: ServicesSection? = nil, writeFiles: [WriteFile]? = nil, runcmd: [String]? = nil) {
        self.services = services
        self.writeFiles = writeFiles
        self.runcmd = runcmd
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: Key.self)
        services = try container.decodeIfPresent(ServicesSection.self, forKey: .services)
        writeFiles = try container.decodeIfPresent([WriteFile].self, forKey: .writeFiles)
        runcmd = try container.decodeTextList(.runcmd, checkedBy: Self.commandLine)
    }

    /// A `runcmd` line: one line of shell, not empty.
    static func commandLine(_ text: String) -> String? {
        text.trimmingWhitespace.isEmpty || text.contains("\0") ? "a command must not be empty" : nil
    }

    /// `services.enable` and `services.disable`: systemd units.
    public struct ServicesSection: Sendable, Equatable, Decodable, ConfigSection {
        public enum Key: String, CodingKey, CaseIterable, Sendable {
            case enable, disable
        }

        public var enable: [String]?
        public var disable: [String]?

        public init(enable: [String]? = nil, disable: [String]? = nil) {
            self.enable = enable
            self.disable = disable
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.strictContainer(keyedBy: Key.self)
            enable = try container.decodeTextList(.enable, checkedBy: ConfigValidation.unitName)
            disable = try container.decodeTextList(.disable, checkedBy: ConfigValidation.unitName)
        }

        public func merged(over earlier: ServicesSection?) -> ServicesSection {
            ServicesSection(enable: enable ?? earlier?.enable, disable: disable ?? earlier?.disable)
        }

        public var keysSet: [String] {
            (enable == nil ? [] : ["enable"]) + (disable == nil ? [] : ["disable"])
        }
    }

    public func merged(over earlier: CloudInitSection?) -> CloudInitSection {
        CloudInitSection(services: (earlier?.services).overridden(by: services),
                         writeFiles: writeFiles ?? earlier?.writeFiles, runcmd: runcmd ?? earlier?.runcmd)
    }

    public var keysSet: [String] {
        (services?.keysSet.map { "services." + $0 } ?? []) + (writeFiles == nil ? [] : ["write_files"])
            + (runcmd == nil ? [] : ["runcmd"])
    }

    public var description: String { "{" + keysSet.joined(separator: ", ") + "}" }
}

/// A file written into the installed system (`cloud_init.write_files[]`).
///
/// Its content may hold secrets: descriptions and the JSON give only its size.
public struct WriteFile: Sendable, Equatable, Codable, CustomStringConvertible, CustomReflectable {
    public enum Key: String, CodingKey, CaseIterable, Sendable {
        case path, permissions, content, owner
    }

    /// The absolute path in the installed system (no `..`).
    public var path: String
    /// The octal mode as written (`"0644"`); `nil` is `0644`.
    public var permissions: String?
    public var content: String
    /// `user:group` (or `user`), names of the installed system; `nil` is `root:root`.
    public var owner: String?

    public init(path: String, permissions: String? = nil, content: String, owner: String? = nil) {
        self.path = path
        self.permissions = permissions
        self.content = content
        self.owner = owner
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: Key.self)
        guard let path = try container.decodeText(.path, checkedBy: ConfigValidation.absolutePath) else {
            throw DecodingError.keyNotFound(Key.path, .init(codingPath: container.codingPath, debugDescription: "path"))
        }
        self.path = path
        permissions = try container.decodeText(.permissions, checkedBy: ConfigValidation.permissions)
        content = try container.decodeIfPresent(String.self, forKey: .content) ?? ""
        owner = try container.decodeText(.owner, checkedBy: ConfigValidation.owner)
    }

    /// The file mode (`0o644` when not given).
    public var mode: UInt32 { permissions.flatMap { UInt32($0, radix: 8) } ?? 0o644 }

    public var description: String {
        "\(path) (\(permissions ?? "0644"), \(owner ?? "root:root"), \(content.utf8.count) bytes)"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["path": path, "permissions": permissions as Any, "owner": owner as Any,
                                "content": "(\(content.utf8.count) bytes)"])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(path, forKey: .path)
        try container.encode(permissions ?? "0644", forKey: .permissions)
        try container.encode("(\(content.utf8.count) bytes)", forKey: .content)
        try container.encode(owner ?? "root:root", forKey: .owner)
    }
}

/// The cloud-init part of the installed system's configuration (`cloud_init:` resolved over every file).
public struct CloudInitConfig: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// Units to enable (`systemctl enable --now`), in order.
    public var servicesEnable: [String] = []
    /// Units to disable (`systemctl disable --now`), in order.
    public var servicesDisable: [String] = []
    /// Files written into the installed system.
    public var writeFiles: [WriteFile] = []
    /// Shell lines run by cloud-init on the first boot, after the service lines.
    public var runcmd: [String] = []

    public init(servicesEnable: [String] = [], servicesDisable: [String] = [], writeFiles: [WriteFile] = [],
                runcmd: [String] = []) {
        self.servicesEnable = servicesEnable
        self.servicesDisable = servicesDisable
        self.writeFiles = writeFiles
        self.runcmd = runcmd
    }

    init(_ section: CloudInitSection?) {
        self.init(servicesEnable: section?.services?.enable ?? [], servicesDisable: section?.services?.disable ?? [],
                  writeFiles: section?.writeFiles ?? [], runcmd: section?.runcmd ?? [])
    }

    /// Nothing to do.
    public var isEmpty: Bool { self == CloudInitConfig() }

    public var description: String {
        guard !isEmpty else { return "nothing" }
        var parts: [String] = []
        if !servicesEnable.isEmpty { parts.append("enable " + servicesEnable.joined(separator: " ")) }
        if !servicesDisable.isEmpty { parts.append("disable " + servicesDisable.joined(separator: " ")) }
        if !writeFiles.isEmpty { parts.append("write " + writeFiles.map(\.description).joined(separator: ", ")) }
        if !runcmd.isEmpty { parts.append("\(runcmd.count) runcmd line\(runcmd.count == 1 ? "" : "s")") }
        return parts.joined(separator: "; ")
    }

    private enum CodingKeys: String, CodingKey {
        case servicesEnable = "services_enable", servicesDisable = "services_disable"
        case writeFiles = "write_files", runcmd
    }
}
