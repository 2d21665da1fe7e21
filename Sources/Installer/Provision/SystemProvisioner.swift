import Foundation

/// Configures an installed system offline: applies a `SystemProfile` to the root file system mounted at
/// `root`, with file writes only (no chroot, no scripts), and reports every change.
///
/// - Every path is resolved inside `root`; a link of the image that leads out of it is refused.
/// - Files are replaced atomically (temporary file in the same directory, then rename) and keep the mode
///   and owner they had, except where the profile says (SSH files, sudoers, `write_files`).
/// - Running it twice gives the same tree; the second run reports no changes.
///
/// What it writes, in this order:
/// 1. hostname: `/etc/hostname`, the `127.0.1.1` line of `/etc/hosts`;
/// 2. user: `/etc/passwd`, `/etc/group`, `/etc/shadow`, `/etc/gshadow` (when present), `/home/<name>` from
///    `/etc/skel`, `sudo` (else `wheel`) membership, `/etc/sudoers.d/90-emts-<name>`, `~/.ssh/authorized_keys`;
/// 3. `/etc/environment`: proxies (both cases) and, for kubernetes, k3s's bin directory on `PATH`;
///    proxy drop-ins for containerd and docker, `/etc/sysconfig/proxy` when `/etc/sysconfig` exists;
/// 4. network: `/etc/systemd/network/99-dhcp-en.network` or `10-emts-static.network`;
/// 5. `/etc/systemd/timesyncd.conf.d/10-emts.conf`, `/etc/sysctl.d/90-emts-hugepages.conf`;
/// 6. host type: docker enabled, `/etc/docker/daemon.json`, the user's `~/.docker/config.json`; or
///    `/etc/rancher/k3s/config.yaml`;
/// 7. cloud-init: `/etc/cloud/cloud.cfg.d/99-emts-installer.cfg`, `/etc/cloud/ds-identify.cfg`, then the
///    `write_files` entries.
public struct SystemProvisioner: Sendable {
    /// k3s's data directory (`data-dir` in its config).
    public static let k3sDataDirectory = "/opt/rancher/k3s"
    /// Where k3s keeps its bundled tools (kubectl, crictl, ctr) under that data directory; put on `PATH`.
    public static let k3sBinDirectory = "/opt/rancher/k3s/data/current/bin"
    /// Docker's `data-root`.
    public static let dockerDataRoot = "/opt/docker-data"
    /// `PATH` for a new `/etc/environment` entry (Debian's login default).
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The host directory where the installed root file system is mounted.
    public var root: String
    /// The wall clock (shadow's date of the last password change).
    public var now: @Sendable () -> Date

    public init(root: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.root = root
        self.now = now
    }

    /// Applies `profile` to the target.
    /// - Parameter onChange: receives each change as it is made (for the install log: a run that fails
    ///   halfway still shows what it wrote).
    /// - Throws: `ProvisionError`; `.invalidProfile` before anything is written.
    @discardableResult
    public func apply(_ profile: SystemProfile,
                      onChange: @escaping (ProvisionChange) -> Void = { _ in }) throws(ProvisionError) -> ProvisionReport {
        try profile.validate()
        let session = ProvisionSession(target: try TargetRoot(root), now: now(), onChange: onChange)
        if let hostname = profile.hostname { try session.applyHostname(hostname) }
        var user: ProvisionedUser?
        if let account = profile.user { user = try session.applyUser(account) }
        try session.applyEnvironment(proxy: profile.proxy, hostType: profile.hostType)
        if let proxy = profile.proxy, !proxy.isEmpty { try session.applyServiceProxies(proxy) }
        try session.applyNetwork(profile.network)
        if !profile.ntpServers.isEmpty { try session.applyTimeServers(profile.ntpServers) }
        if let hugepages = profile.hugepages { try session.applyHugepages(hugepages) }
        switch profile.hostType {
        case .container?: try session.applyContainerHost(user: user, proxy: profile.proxy)
        case .kubernetes?: try session.applyKubernetesHost()
        case nil: break
        }
        try session.applyCloudInit(profile.cloudInit, ntpServers: profile.ntpServers)
        try session.applyWriteFiles(profile.cloudInit.writeFiles)
        try session.checkSELinux()
        return ProvisionReport(changes: session.changes, warnings: session.warnings)
    }
}

extension ProvisionSession {
    // MARK: Hostname

    func applyHostname(_ name: String) throws(ProvisionError) {
        try write("/etc/hostname", name + "\n", summary: "hostname \(name)")
        let short = String(name.split(separator: ".").first ?? Substring(name))
        let entry = "127.0.1.1\t" + (short == name ? name : "\(name) \(short)")
        var lines: [String]
        if let text = try target.readText("/etc/hosts") {
            lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
        } else {
            lines = ["127.0.0.1\tlocalhost", "::1\t\tlocalhost ip6-localhost ip6-loopback"]
        }
        func address(_ line: String) -> Substring? {
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first
        }
        if let index = lines.firstIndex(where: { address($0) == "127.0.1.1" }) {
            lines[index] = entry
            lines = lines.enumerated().filter { $0.offset == index || address($0.element) != "127.0.1.1" }.map(\.element)
        } else if let index = lines.lastIndex(where: { address($0) == "127.0.0.1" }) {
            lines.insert(entry, at: index + 1)
        } else {
            lines.append(entry)
        }
        try write("/etc/hosts", lines.map { $0 + "\n" }.joined(), summary: "127.0.1.1 \(name)")
    }

    // MARK: /etc/environment and proxies

    /// Proxies in both cases and, for kubernetes, k3s's bin directory on `PATH`; other lines are kept.
    func applyEnvironment(proxy: ProxySettings?, hostType: HostType?) throws(ProvisionError) {
        var assignments: [(String, String)] = []
        var summaries: [String] = []
        if let proxy {
            if let http = proxy.http {
                assignments += [("http_proxy", http), ("HTTP_PROXY", http)]
                summaries.append("http_proxy \(Redaction.url(http))")
            }
            if let https = proxy.https {
                assignments += [("https_proxy", https), ("HTTPS_PROXY", https)]
                summaries.append("https_proxy \(Redaction.url(https))")
            }
            if let noProxy = proxy.noProxyValue {
                assignments += [("no_proxy", noProxy), ("NO_PROXY", noProxy)]
                summaries.append("no_proxy \(proxy.noProxy.count) entr\(proxy.noProxy.count == 1 ? "y" : "ies")")
            }
        }
        let text = try target.readText("/etc/environment")
        var file = KeyValueLines(text: text ?? "")
        if hostType == .kubernetes {
            let current = file.value(of: "PATH") ?? SystemProvisioner.defaultPath
            let directories = current.split(separator: ":").map(String.init)
            if !directories.contains(SystemProvisioner.k3sBinDirectory) {
                assignments.append(("PATH", (directories + [SystemProvisioner.k3sBinDirectory]).joined(separator: ":")))
            } else if file.value(of: "PATH") == nil {
                assignments.append(("PATH", current))
            }
            summaries.append("k3s tools on PATH")
        }
        guard !assignments.isEmpty else { return }
        for (key, value) in assignments { file.set(key, line: "\(key)=\(value)") }
        try write("/etc/environment", file.text, summary: summaries.joined(separator: ", "))
    }

    /// systemd drop-ins for containerd and docker, and `/etc/sysconfig/proxy` when `/etc/sysconfig` exists.
    func applyServiceProxies(_ proxy: ProxySettings) throws(ProvisionError) {
        var environment: [(String, String)] = []
        if let http = proxy.http { environment.append(("HTTP_PROXY", http)) }
        if let https = proxy.https { environment.append(("HTTPS_PROXY", https)) }
        if let noProxy = proxy.noProxyValue { environment.append(("NO_PROXY", noProxy)) }
        let summary = environment.map { $0.0 == "NO_PROXY" ? "NO_PROXY" : "\($0.0) \(Redaction.url($0.1))" }
            .joined(separator: ", ")
        // `%` starts a specifier in unit files: `%%` is a literal one (percent-encoded credentials).
        let dropIn = "[Service]\n" + environment.map { key, value in
            "Environment=\"\(key)=\(value.replacingOccurrences(of: "%", with: "%%"))\"\n"
        }.joined()
        for service in ["containerd", "docker"] {
            try write("/etc/systemd/system/\(service).service.d/http-proxy.conf", dropIn,
                      summary: "\(service) proxy: \(summary)")
        }

        guard try target.isDirectory("/etc/sysconfig") else { return }
        var file = KeyValueLines(text: try target.readText("/etc/sysconfig/proxy") ?? "")
        file.set("PROXY_ENABLED", line: "PROXY_ENABLED=\"yes\"")
        for (key, value) in environment { file.set(key, line: "\(key)=\"\(value)\"") }
        try write("/etc/sysconfig/proxy", file.text, summary: "PROXY_ENABLED=yes, \(summary)")
    }

    /// New files have no SELinux label (replaced ones keep theirs): under a policy they must be relabeled.
    func checkSELinux() throws(ProvisionError) {
        let created = changes.filter { $0.action == .created }.map(\.path)
        guard !created.isEmpty, let config = try target.readText("/etc/selinux/config") else { return }
        let mode = KeyValueLines(text: config).value(of: "SELINUX")?.lowercased()
        guard let mode, mode == "enforcing" || mode == "permissive" else { return }
        warn("the target runs SELinux (\(mode)): \(created.count) new path\(created.count == 1 ? " has" : "s have") "
            + "no label yet; relabel them (setfiles/restorecon with the target's policy) or create /.autorelabel")
    }

    // MARK: Time and memory

    func applyTimeServers(_ servers: [String]) throws(ProvisionError) {
        try write("/etc/systemd/timesyncd.conf.d/10-emts.conf",
                  "# Written by install-os.\n[Time]\nNTP=\(servers.joined(separator: " "))\n",
                  summary: "NTP servers \(servers.joined(separator: " "))")
    }

    func applyHugepages(_ count: Int) throws(ProvisionError) {
        try write("/etc/sysctl.d/90-emts-hugepages.conf", "# Written by install-os.\nvm.nr_hugepages = \(count)\n",
                  summary: "\(count) huge pages of 2 MiB")
    }
}

/// A text file as lines: the editors below work on these and write them back with a final newline.
enum FileLines {
    /// The lines of `text`, without the empty one after its final newline.
    static func split(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func join(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }
}

/// A `KEY=value` file (`/etc/environment`, `/etc/sysconfig/proxy`), line by line: setting a key replaces
/// its first line in place (and drops later duplicates) or appends one; other lines stay as they are.
struct KeyValueLines {
    private(set) var lines: [String]

    init(text: String) {
        lines = FileLines.split(text)
    }

    var text: String { FileLines.join(lines) }

    /// The key a line assigns (`KEY=...` or `export KEY=...`), `nil` for comments and other lines.
    static func key(of line: String) -> String? {
        var rest = Substring(line.trimmingWhitespace)
        if rest.hasPrefix("#") { return nil }
        if rest.hasPrefix("export ") { rest = rest.dropFirst("export ".count).drop(while: { $0 == " " }) }
        guard let equals = rest.firstIndex(of: "="), equals != rest.startIndex else { return nil }
        let key = rest[..<equals]
        return key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) ? String(key) : nil
    }

    /// The value of `key`'s first line, without surrounding quotes.
    func value(of key: String) -> String? {
        guard let line = lines.first(where: { Self.key(of: $0) == key }),
              let equals = line.firstIndex(of: "=") else { return nil }
        var value = Substring(String(line[line.index(after: equals)...]).trimmingWhitespace)
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            value = value.dropFirst().dropLast()
        }
        return String(value)
    }

    mutating func set(_ key: String, line: String) {
        guard let index = lines.firstIndex(where: { Self.key(of: $0) == key }) else {
            lines.append(line)
            return
        }
        lines[index] = line
        lines = lines.enumerated().filter { $0.offset <= index || Self.key(of: $0.element) != key }.map(\.element)
    }
}
