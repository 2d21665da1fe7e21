import Foundation
import Yams

extension ProvisionSession {
    // MARK: container

    /// Docker enabled, its data under `/opt/docker-data`, and the user's docker client using the proxies.
    func applyContainerHost(user: ProvisionedUser?, proxy: ProxySettings?) throws(ProvisionError) {
        try enableUnit("docker.service")
        try mergeJSON("/etc/docker/daemon.json", summary: "docker data-root \(SystemProvisioner.dockerDataRoot)") { object in
            object["data-root"] = SystemProvisioner.dockerDataRoot
        }
        guard let user, let proxy, !proxy.isEmpty else { return }
        let directory = user.home + "/.docker"
        try ensureDirectory(directory, mode: 0o700, uid: user.uid, gid: user.gid, summary: "docker client of \(user.name)")
        let summary = "docker client proxies of \(user.name): "
            + [proxy.http.map { "http \(Redaction.url($0))" }, proxy.https.map { "https \(Redaction.url($0))" },
               proxy.noProxyValue.map { _ in "noProxy" }].compactMap { $0 }.joined(separator: ", ")
        try mergeJSON(directory + "/config.json", mode: 0o600, uid: user.uid, gid: user.gid, summary: summary) { object in
            var proxies = object["proxies"] as? [String: Any] ?? [:]
            var defaults = proxies["default"] as? [String: Any] ?? [:]
            if let http = proxy.http { defaults["httpProxy"] = http }
            if let https = proxy.https { defaults["httpsProxy"] = https }
            if let noProxy = proxy.noProxyValue { defaults["noProxy"] = noProxy }
            proxies["default"] = defaults
            object["proxies"] = proxies
        }
    }

    /// Sets keys of a JSON object file, keeping the others; writes only when the object changes.
    private func mergeJSON(_ path: String, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
                           summary: String, update: (inout [String: Any]) -> Void) throws(ProvisionError) {
        var object: [String: Any] = [:]
        var old: [UInt8]?
        if let bytes = try target.read(path), !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw .malformed(path: path, reason: "not a JSON object")
            }
            object = parsed
            old = try Self.canonicalJSON(parsed, path: path)
        }
        update(&object)
        let new = try Self.canonicalJSON(object, path: path)
        // Unchanged content: leave the file as it is (formatting included), but still own it as told.
        var bytes = new
        if new == old, let current = try target.read(path) { bytes = current }
        try write(path, bytes: bytes, mode: mode, uid: uid, gid: gid,
                  ownership: uid == 0 && gid == 0 ? .keepExisting : .enforce, summary: summary)
    }

    private static func canonicalJSON(_ object: [String: Any], path: String) throws(ProvisionError) -> [UInt8] {
        do {
            let data = try JSONSerialization.data(withJSONObject: object,
                                                  options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return [UInt8](data) + [0x0A]
        } catch {
            throw .malformed(path: path, reason: "cannot be written as JSON: \(error)")
        }
    }

    // MARK: kubernetes

    /// k3s's `data-dir` in `/etc/rancher/k3s/config.yaml`, other keys kept; `k3s.service` enabled unless
    /// the helper script starts k3s on first boot.
    func applyKubernetesHost(startedByScript: Bool) throws(ProvisionError) {
        if !startedByScript { try enableUnit("k3s.service") }
        try applyK3sConfig()
    }

    private func applyK3sConfig() throws(ProvisionError) {
        let path = "/etc/rancher/k3s/config.yaml"
        var mapping = Node.Mapping([])
        if let text = try target.readText(path), !text.trimmingWhitespace.isEmpty {
            let node: Node?
            do {
                node = try Yams.compose(yaml: text)
            } catch {
                throw .malformed(path: path, reason: "not YAML: \(error)")
            }
            if let node {
                guard let existing = node.mapping else { throw .malformed(path: path, reason: "not a YAML mapping") }
                if existing["data-dir"]?.string == SystemProvisioner.k3sDataDirectory { return }
                mapping = existing
            }
        }
        mapping["data-dir"] = Node(SystemProvisioner.k3sDataDirectory)
        try write(path, try Self.yaml(.mapping(mapping), path: path),
                  summary: "k3s data-dir \(SystemProvisioner.k3sDataDirectory)")
    }

    static func yaml(_ node: Node, path: String) throws(ProvisionError) -> String {
        do {
            return try Yams.serialize(node: node, indent: 2, width: -1)
        } catch {
            throw .malformed(path: path, reason: "cannot be written as YAML: \(error)")
        }
    }

    // MARK: systemd units

    static let unitDirectories = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"]

    /// What `systemctl enable` does, offline: links from the `WantedBy=`/`RequiredBy=` targets' `.wants`/
    /// `.requires` directories, `Alias=` links, and the `Also=` units. A unit the image lacks, a masked one
    /// or one without an `[Install]` section is a warning, not an error.
    func enableUnit(_ name: String) throws(ProvisionError) {
        var seen = Set<String>()
        try enableUnit(name, seen: &seen)
    }

    private func enableUnit(_ name: String, seen: inout Set<String>) throws(ProvisionError) {
        guard seen.insert(name).inserted else { return }
        guard Validation.isUnitName(name), !name.contains("@.") else {
            warn("\(name): not enabled (template or odd unit name)")
            return
        }
        let local = try target.resolve("/etc/systemd/system/" + name, followFinal: false)
        if let link = SysfsFiles.linkTarget(local.host), link == "/dev/null" {
            warn("\(name) is masked in the target (/etc/systemd/system/\(name) -> /dev/null): not enabled")
            return
        }
        var found: (path: String, text: String)?
        for directory in Self.unitDirectories {
            let path = directory + "/" + name
            if try target.info(path)?.kind == .regular, let text = try target.readText(path) {
                found = (path, text)
                break
            }
        }
        guard let (path, text) = found else {
            warn("\(name) is not in the target's unit directories: not enabled")
            return
        }
        let unit = NetworkdFile(text: text)
        let words: (String) -> [String] = { key in
            unit.values(of: key, in: "Install").flatMap { $0.split(separator: " ").map(String.init) }
        }
        let wantedBy = words("WantedBy"), requiredBy = words("RequiredBy"), aliases = words("Alias"), also = words("Also")
        if wantedBy.isEmpty, requiredBy.isEmpty, aliases.isEmpty, also.isEmpty {
            warn("\(name) has no [Install] section: nothing to enable")
            return
        }
        for (targets, suffix) in [(wantedBy, ".wants"), (requiredBy, ".requires")] {
            for unitTarget in targets {
                guard Validation.isUnitName(unitTarget) else { warn("\(name): odd target \(unitTarget) skipped"); continue }
                try link("/etc/systemd/system/\(unitTarget)\(suffix)/\(name)", to: path,
                         summary: "\(name) enabled (\(unitTarget))")
            }
        }
        for alias in aliases {
            guard Validation.isUnitName(alias), alias != name else { continue }
            try link("/etc/systemd/system/\(alias)", to: path, summary: "\(alias): alias of \(name)")
        }
        for other in also { try enableUnit(other, seen: &seen) }
    }
}
