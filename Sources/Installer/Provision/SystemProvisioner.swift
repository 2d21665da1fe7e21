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
///    `/etc/rancher/k3s/config.yaml` (and `k3s.service` enabled when no helper script starts k3s);
/// 7. the swap partition in `/etc/fstab`;
/// 8. cloud-init: the helper scripts in `/etc/cloud/`, `/etc/cloud/cloud.cfg.d/99-emts-installer.cfg`,
///    `/etc/cloud/ds-identify.cfg`, the NoCloud seed in `/var/lib/cloud/seed/nocloud/`, then the
///    `write_files` entries;
/// 9. SELinux labels of every new path, from the target's own policy, when it runs SELinux.
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
        case .kubernetes?:
            try session.applyKubernetesHost(
                startedByScript: profile.cloudInit.helperScripts.contains { $0.name == HelperScript.k3sConfigure })
        case nil: break
        }
        if let swapUUID = profile.swapUUID { try session.applySwap(uuid: swapUUID) }
        try session.applyCloudInit(profile.cloudInit, ntpServers: profile.ntpServers, hostname: profile.hostname,
                                   hostType: profile.hostType)
        try session.applyWriteFiles(profile.cloudInit.writeFiles)
        try session.labelNewPaths()
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

    /// New files, directories and links get the label the target's SELinux policy gives their path (replaced
    /// files kept theirs), as `restorecon` would on the installed system; the policy is the target's own,
    /// read through libselinux. Nothing when the target does not run SELinux. A target whose policy cannot be
    /// read, or a path no rule matches, is a warning naming it.
    func labelNewPaths() throws(ProvisionError) {
        var seen = Set<String>()
        let created = changes.filter { $0.action == .created }.map(\.path).filter { seen.insert($0).inserted }
        guard !created.isEmpty else { return }
        let policy: SELinuxPolicy
        switch SELinuxPolicy.load(config: try target.readText("/etc/selinux/config"), root: target.root) {
        case .notUsed:
            return
        case .unreadable(let mode, let reason):
            warn("the target runs SELinux (\(mode)) but \(reason): \(created.count) new path"
                 + "\(created.count == 1 ? " has" : "s have") no label; relabel them with restorecon")
            return
        case .loaded(let loaded):
            policy = loaded
        }
        var labeled = 0
        var done = Set<String>()
        /// Labels the path and, for a new directory, everything in it (a home copied from /etc/skel).
        func label(_ path: String, host: String) throws(ProvisionError) {
            guard done.insert(path).inserted else { return }
            var status = stat()
            guard lstat(host, &status) == 0 else { return }
            let type = status.st_mode & S_IFMT
            if let label = policy.label(for: path, fileType: type) {
                if let reason = SELinuxLabel.set(label, path: host) {
                    throw .io(path: path, operation: "setting its SELinux label", reason: reason)
                }
                labeled += 1
            } else {
                warn("SELinux: no file context in \(policy.fileContexts) matches \(path): left unlabeled")
            }
            guard type == S_IFDIR else { return }
            for name in SysfsFiles.list(host) {
                try label((path == "/" ? "" : path) + "/" + name, host: host + "/" + name)
            }
        }
        for path in created {
            let location = try target.resolve(path, followFinal: false)
            try label(location.path, host: location.host)
        }
        if labeled > 0 {
            record("/", .labeled(paths: labeled), "SELinux labels from the target's \(policy.type) policy "
                   + "(\(policy.fileContexts))")
        }
    }

    // MARK: Time and memory

    func applyTimeServers(_ servers: [String]) throws(ProvisionError) {
        try write("/etc/systemd/timesyncd.conf.d/10-emts.conf",
                  "# Written by install-os.\n[Time]\nNTP=\(servers.joined(separator: " "))\n",
                  summary: "NTP servers \(servers.joined(separator: " "))")
    }

    /// `UUID=<uuid> none swap defaults 0 0` in `/etc/fstab`, unless a line for that swap is there.
    func applySwap(uuid: String) throws(ProvisionError) {
        let text = try target.readText("/etc/fstab") ?? ""
        let device = "UUID=\(uuid)"
        let present = text.split(separator: "\n").contains { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) == device
        }
        guard !present else { return }
        let separator = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
        try write("/etc/fstab", text + separator + "\(device)\tnone\tswap\tdefaults\t0\t0\n",
                  summary: "swap partition UUID \(uuid)")
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
