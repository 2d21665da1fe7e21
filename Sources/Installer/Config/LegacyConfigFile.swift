import Yams

/// The shell installer's `config-file`, read as an alternative to `installer.yaml`: `KEY="value"` lines and
/// `#` comments, then a YAML tail from a line `services:` on.
///
/// ```
/// http_proxy="http://proxy.example.com:3128"
/// user_name="edge"
/// static_ip="192.168.1.10"
/// subnet_mask="255.255.255.0"
/// services:
///   enable: [docker]
/// write_files:
///   - path: /etc/motd
///     content: "hello"
/// runcmd: ["echo done"]
/// ```
///
/// It gives the same `InstallerSettings` as the equivalent `installer.yaml` (the mapping is in
/// installer/README.md). An empty value (`ssh_key=""`, as the shipped template has them) sets nothing. A key the
/// installer does not know is a warning, not an error: old files carry keys no installer ever read. A line
/// that is none of the above is an error naming its number.
public struct LegacyConfigFile: Sendable, Equatable {
    /// The file's name on the config partition.
    public static let fileName = "config-file"

    public var path: String
    public var settings: InstallerSettings
    public var warnings: [LegacyConfigWarning]

    /// The settings as a configuration file, its warnings as text.
    public var configFile: InstallerConfigFile {
        InstallerConfigFile(path: path, settings: settings, warnings: warnings.map(\.description))
    }

    /// Reads and parses the file at `path`; `nil` when there is no such file.
    /// - Throws: `InstallerConfigError` naming `displayName` (default: `path`), the line and the key.
    public static func read(_ path: String, displayName: String? = nil) throws(InstallerConfigError) -> LegacyConfigFile? {
        let name = displayName ?? path
        guard let text = try InstallerConfigFile.readText(path, displayName: name) else { return nil }
        return try LegacyConfigFile(text: text, path: name)
    }

    /// Parses the text of a `config-file`; `path` names it in errors and warnings.
    /// - Throws: `InstallerConfigError`: `.malformedLine` for a line that is not `KEY="value"`, `#` or blank;
    ///   `.invalidValue` naming the key and line for a value the installer cannot use; YAML errors of the tail.
    public init(text: String, path: String) throws(InstallerConfigError) {
        self.path = path
        warnings = []
        settings = InstallerSettings()

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        var assignments: [String: Assignment] = [:]
        var tailStart: Int?
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let trimmed = line.trimmingWhitespace
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if Self.startsTail(line) {
                tailStart = index
                break
            }
            let assignment = try Self.assignment(line, number: number, path: path)
            if let earlier = assignments[assignment.key] {
                warn(assignment.key, number, "\(assignment.key) given again (first on line \(earlier.line)); "
                     + "this value counts")
            }
            assignments[assignment.key] = assignment
        }
        try apply(assignments)
        if let tailStart {
            // The tail keeps its line numbers: the lines above it become blank.
            let yaml = String(repeating: "\n", count: tailStart) + lines[tailStart...].joined(separator: "\n")
            try applyTail(yaml)
        }
    }

    // MARK: - KEY="value" lines

    struct Assignment {
        var key: String
        var value: String
        var line: Int
    }

    /// `services:` at the start of a line (a comment may follow).
    static func startsTail(_ line: String) -> Bool {
        guard line.hasPrefix("services:") else { return false }
        let rest = line.dropFirst("services:".count).drop { $0 == " " || $0 == "\t" }
        return rest.isEmpty || rest.hasPrefix("#")
    }

    /// `KEY="value"`, `KEY='value'` or `KEY=value` (optionally after `export `), then an optional comment.
    static func assignment(_ line: String, number: Int, path: String) throws(InstallerConfigError) -> Assignment {
        func malformed(_ why: String) -> InstallerConfigError {
            .malformedLine(file: path, line: number, message: why + "; expected KEY=\"value\", a # comment, "
                           + "or the YAML part from a line services: on")
        }
        var rest = Substring(line.trimmingWhitespace)
        if rest.hasPrefix("export ") { rest = rest.dropFirst("export ".count).drop { $0 == " " } }
        let key = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard let first = key.first, !first.isNumber, rest.dropFirst(key.count).first == "=" else {
            throw malformed("\"\(line.prefix(40))\" is not a KEY=\"value\" line")
        }
        rest = rest.dropFirst(key.count + 1)
        var value = ""
        var remainder: Substring
        if rest.first == "\"" || rest.first == "'" {
            let quote = rest.first!
            var index = rest.index(after: rest.startIndex)
            var closed = false
            while index < rest.endIndex {
                let character = rest[index]
                if character == quote {
                    closed = true
                    break
                }
                if quote == "\"", character == "\\", rest.index(after: index) < rest.endIndex,
                   "\"\\$`".contains(rest[rest.index(after: index)]) {
                    index = rest.index(after: index)
                }
                value.append(rest[index])
                index = rest.index(after: index)
            }
            guard closed else { throw malformed("the value of \(key) has no closing \(quote)") }
            remainder = rest[rest.index(after: index)...]
        } else {
            let end = rest.firstIndex { $0 == " " || $0 == "\t" } ?? rest.endIndex
            value = String(rest[..<end])
            remainder = rest[end...]
            guard !value.contains("\"") && !value.contains("'") else {
                throw malformed("the value of \(key) has a stray quote")
            }
        }
        let after = remainder.drop { $0 == " " || $0 == "\t" }
        guard after.isEmpty || after.hasPrefix("#") else {
            throw malformed("text after the value of \(key) (quote values with spaces)")
        }
        return Assignment(key: String(key), value: value.trimmingWhitespace, line: number)
    }

    // MARK: - Mapping onto the schema

    /// The keys read, and what each becomes in `installer.yaml`.
    public static let keyMapping: [(legacy: String, yaml: String)] = [
        ("http_proxy, HTTP_PROXY", "proxy.http"),
        ("https_proxy, HTTPS_PROXY", "proxy.https"),
        ("no_proxy, NO_PROXY", "proxy.no_proxy"),
        ("ssh_key", "user.ssh_authorized_keys"),
        ("user_name", "user.name"),
        ("host_type", "host_type"),
        ("static_ip, subnet_mask", "network.mode: static, network.address"),
        ("default_gate_way", "network.gateway"),
        ("dns_name_server", "network.dns"),
        ("lvm_size_ingb", "storage.lvm_size_gb"),
        ("huge_page_config", "hugepages"),
        ("USER_CUSTOM_NTP_SERVERS", "ntp"),
        ("deploy_envmt", "storage.layout"),
    ]

    private static let knownKeys: Set<String> = [
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "ssh_key", "user_name",
        "host_type", "static_ip", "subnet_mask", "default_gate_way", "dns_name_server", "lvm_size_ingb",
        "huge_page_config", "USER_CUSTOM_NTP_SERVERS", "deploy_envmt",
    ]

    private mutating func warn(_ key: String, _ line: Int, _ message: String) {
        warnings.append(LegacyConfigWarning(file: path, key: key, line: line, message: message))
    }

    private mutating func apply(_ assignments: [String: Assignment]) throws(InstallerConfigError) {
        let path = path
        func invalid(_ assignment: Assignment, _ message: String) -> InstallerConfigError {
            .invalidValue(file: path, key: assignment.key, line: assignment.line, message: message)
        }
        func check(_ assignment: Assignment, _ validate: (String) -> String?) throws(InstallerConfigError) {
            if let message = validate(assignment.value) { throw invalid(assignment, message) }
        }
        func list(_ assignment: Assignment, _ validate: (String) -> String?) throws(InstallerConfigError) -> [String] {
            let entries = ProxySection.splitList(assignment.value)
            for entry in entries {
                if let message = validate(entry) { throw invalid(assignment, message) }
            }
            return entries
        }
        /// The last of several spellings that is given with a value.
        func value(_ keys: String...) -> Assignment? {
            keys.compactMap { assignments[$0] }.filter { !$0.value.isEmpty }.max { $0.line < $1.line }
        }

        for assignment in assignments.values.sorted(by: { $0.line < $1.line }) where !Self.knownKeys.contains(assignment.key) {
            warn(assignment.key, assignment.line, "unknown key \"\(assignment.key)\" ignored")
        }

        var proxy = ProxySection()
        if let http = value("http_proxy", "HTTP_PROXY") {
            try check(http, ConfigValidation.proxyURL)
            proxy.http = http.value
        }
        if let https = value("https_proxy", "HTTPS_PROXY") {
            try check(https, ConfigValidation.proxyURL)
            proxy.https = https.value
        }
        if let noProxy = value("no_proxy", "NO_PROXY") {
            proxy.noProxy = try list(noProxy, ConfigValidation.noProxyEntry)
        }
        if !proxy.keysSet.isEmpty { settings.proxy = proxy }

        var user = UserSection()
        if let name = value("user_name") {
            try check(name, ConfigValidation.userName)
            user.name = name.value
        }
        if let key = value("ssh_key") {
            do {
                user.sshAuthorizedKeys = [try SSHPublicKey(key.value)]
            } catch {
                throw invalid(key, error.message)
            }
        }
        if !user.keysSet.isEmpty { settings.user = user }

        if let hostType = value("host_type") {
            guard let type = InstallerConfig.HostType(rawValue: hostType.value) else {
                throw invalid(hostType, "\"\(hostType.value)\" is not one of kubernetes | container")
            }
            settings.hostType = type
        }

        var network = NetworkSection()
        if let address = value("static_ip") {
            try check(address, ConfigValidation.address)
            guard let mask = value("subnet_mask") else {
                throw invalid(address, "static_ip needs subnet_mask (such as 255.255.255.0) too")
            }
            let prefix: Int
            switch ConfigValidation.prefixLength(ofMask: mask.value) {
            case .success(let length): prefix = length
            case .failure(let error): throw invalid(mask, error.message)
            }
            network.mode = .static
            network.address = "\(address.value)/\(prefix)"
            try check(Assignment(key: mask.key, value: network.address!, line: mask.line), ConfigValidation.addressWithPrefix)
            if let gateway = value("default_gate_way") {
                try check(gateway, ConfigValidation.address)
                network.gateway = gateway.value
            }
        } else {
            for key in ["subnet_mask", "default_gate_way"] {
                if let ignored = value(key) { warn(key, ignored.line, "\(key) without static_ip ignored") }
            }
        }
        if let dns = value("dns_name_server") {
            network.dns = try list(dns, ConfigValidation.address)
        }
        if !network.keysSet.isEmpty { settings.network = network }

        var storage = StorageSection()
        if let size = value("lvm_size_ingb") {
            guard let number = Double(size.value), StorageSection.checkGB(number) == nil else {
                throw invalid(size, "\"\(size.value)\" is not a number of GB from 0 to 1000000")
            }
            storage.lvmSizeGB = number
        }
        if let environment = value("deploy_envmt") {
            storage.layout = environment.value == "ven" ? StorageConfig.Layout.vm : StorageConfig.Layout.emt
        }
        if !storage.keysSet.isEmpty { settings.storage = storage }

        if let pages = value("huge_page_config") {
            guard let count = Int(pages.value), (0 ... 1_000_000).contains(count) else {
                throw invalid(pages, "\"\(pages.value)\" is not a whole number of 2 MiB pages from 0 to 1000000")
            }
            settings.hugepages = count
        }
        if let servers = value("USER_CUSTOM_NTP_SERVERS") {
            settings.ntp = try list(servers, ConfigValidation.ntpServer)
        }
    }

    // MARK: - The YAML tail

    private mutating func applyTail(_ yaml: String) throws(InstallerConfigError) {
        guard let tail = try InstallerConfigFile.decode(LegacyTail.self, yaml: yaml, path: path) else { return }
        // Keys the shell installer did not read: warned, as the KEY= ones.
        if let root = try? Yams.compose(yaml: yaml), let mapping = root.mapping {
            for (key, value) in mapping {
                let name = key.string ?? "?"
                if LegacyTail.Key(rawValue: name) == nil {
                    warn(name, key.mark?.line ?? 0, "unknown key \"\(name)\" in the YAML part ignored")
                } else if name == LegacyTail.Key.services.rawValue, let services = value.mapping {
                    for (inner, _) in services where LegacyTail.ServicesKey(rawValue: inner.string ?? "") == nil {
                        let innerName = inner.string ?? "?"
                        warn("services." + innerName, inner.mark?.line ?? 0,
                             "unknown key \"services.\(innerName)\" in the YAML part ignored")
                    }
                }
            }
        }
        var section = CloudInitSection()
        if tail.enable != nil || tail.disable != nil {
            section.services = CloudInitSection.ServicesSection(enable: tail.enable, disable: tail.disable)
        }
        section.writeFiles = tail.writeFiles
        section.runcmd = tail.runcmd
        if !section.keysSet.isEmpty { settings.cloudInit = section }
    }

    /// The tail: `services:` with `enable`, `disable` (and, as some files have them, `write_files` and
    /// `runcmd`), then `write_files` and `runcmd`. Keys it does not list are skipped here and warned about.
    struct LegacyTail: Decodable {
        enum Key: String, CodingKey, CaseIterable {
            case services
            case writeFiles = "write_files"
            case runcmd
        }

        enum ServicesKey: String, CodingKey, CaseIterable {
            case enable, disable
            case writeFiles = "write_files"
            case runcmd
        }

        var enable: [String]?
        var disable: [String]?
        var writeFiles: [WriteFile]?
        var runcmd: [String]?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            var writeFiles: [WriteFile]?
            var runcmd: [String]?
            if container.contains(.services), try !container.decodeNil(forKey: .services) {
                let services = try container.nestedContainer(keyedBy: ServicesKey.self, forKey: .services)
                enable = try services.decodeTextList(.enable, checkedBy: ConfigValidation.unitName)
                disable = try services.decodeTextList(.disable, checkedBy: ConfigValidation.unitName)
                writeFiles = try services.decodeIfPresent([WriteFile].self, forKey: .writeFiles)
                runcmd = try services.decodeTextList(.runcmd, checkedBy: CloudInitSection.commandLine)
            }
            if let more = try container.decodeIfPresent([WriteFile].self, forKey: .writeFiles) {
                writeFiles = (writeFiles ?? []) + more
            }
            if let more = try container.decodeTextList(.runcmd, checkedBy: CloudInitSection.commandLine) {
                runcmd = (runcmd ?? []) + more
            }
            self.writeFiles = writeFiles
            self.runcmd = runcmd
        }
    }
}

/// Something in a legacy `config-file` that install-os skips: an unknown key, a key given twice.
public struct LegacyConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var key: String
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}
