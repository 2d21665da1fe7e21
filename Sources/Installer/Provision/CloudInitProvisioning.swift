import Foundation
import Yams

extension ProvisionSession {
    static let cloudConfigFile = "/etc/cloud/cloud.cfg.d/99-emts-installer.cfg"
    static let dsIdentifyFile = "/etc/cloud/ds-identify.cfg"
    static let seedDirectory = "/var/lib/cloud/seed/nocloud"
    static let helperDirectory = "/etc/cloud"

    /// cloud-init's installer config (`runcmd`: the k3s script, the service lines, then the profile's
    /// commands; `ntp`), `datasource: NoCloud` for ds-identify, the NoCloud seed (`meta-data` with the
    /// instance id and host name, an empty `user-data`) and the helper scripts in `/etc/cloud/`. Nothing
    /// when the profile has nothing for cloud-init and the target has no `/etc/cloud`.
    func applyCloudInit(_ profile: CloudInitProfile, ntpServers: [String], hostname: String?,
                        hostType: HostType?) throws(ProvisionError) {
        let k3sScript = hostType == .kubernetes
            && profile.helperScripts.contains { $0.name == HelperScript.k3sConfigure }
        let runcmd = (k3sScript ? [Self.helperDirectory + "/" + HelperScript.k3sConfigure] : [])
            + profile.servicesEnable.map { "systemctl enable --now \($0)" }
            + profile.servicesDisable.map { "systemctl disable --now \($0)" }
            + profile.runcmd
        var pairs: [(Node, Node)] = []
        if !runcmd.isEmpty {
            pairs.append((Node("runcmd"), Node(runcmd.map(Self.string))))
        }
        if !ntpServers.isEmpty {
            pairs.append((Node("ntp"), Node([
                (Node("enabled"), Node("true", Tag(.bool))),
                (Node("servers"), Node(ntpServers.map(Self.string))),
            ])))
        }
        let cloudDirectory = try target.isDirectory("/etc/cloud")
        guard !pairs.isEmpty || cloudDirectory || !profile.helperScripts.isEmpty else { return }
        for script in profile.helperScripts {
            try write(Self.helperDirectory + "/" + script.name, bytes: script.bytes, mode: 0o755, ownership: .enforce,
                      summary: "helper script, \(script.bytes.count) bytes from \(script.source)")
        }
        if !pairs.isEmpty {
            var parts: [String] = []
            if k3sScript { parts.append("run \(HelperScript.k3sConfigure)") }
            if !profile.servicesEnable.isEmpty { parts.append("enable \(profile.servicesEnable.joined(separator: " "))") }
            if !profile.servicesDisable.isEmpty { parts.append("disable \(profile.servicesDisable.joined(separator: " "))") }
            if !profile.runcmd.isEmpty {
                parts.append("\(profile.runcmd.count) runcmd line\(profile.runcmd.count == 1 ? "" : "s") (not shown)")
            }
            if !ntpServers.isEmpty { parts.append("ntp \(ntpServers.joined(separator: " "))") }
            let body = try Self.yaml(Node(pairs), path: Self.cloudConfigFile)
            try write(Self.cloudConfigFile, "#cloud-config\n# Written by install-os.\n" + body,
                      summary: "cloud-init: " + parts.joined(separator: ", "))
        }
        let datasource = try Self.yaml(Node([(Node("datasource"), Node("NoCloud"))]), path: Self.dsIdentifyFile)
        try write(Self.dsIdentifyFile, datasource, summary: "cloud-init datasource NoCloud")
        if let instanceID = profile.instanceID {
            var metadata: [(Node, Node)] = [(Node("instance-id"), Self.string(instanceID))]
            if let hostname { metadata.append((Node("local-hostname"), Self.string(hostname))) }
            let path = Self.seedDirectory + "/meta-data"
            try write(path, try Self.yaml(Node(metadata), path: path),
                      summary: "NoCloud seed, instance-id \(instanceID)")
            try write(Self.seedDirectory + "/user-data", "#cloud-config\n{}\n",
                      summary: "NoCloud seed (the configuration is in \(Self.cloudConfigFile))")
        }
    }

    /// A string scalar that reads back as a string (`'123'`, `'yes'` quoted).
    private static func string(_ text: String) -> Node { .scalar(text.represented()) }

    // MARK: write_files

    /// The profile's files, written into the target now, with their mode and owner (resolved against the
    /// target's passwd and group, after the user was created).
    func applyWriteFiles(_ files: [ProvisionFile]) throws(ProvisionError) {
        guard !files.isEmpty else { return }
        let passwd = AccountFile(path: "/etc/passwd", text: try target.readText("/etc/passwd") ?? "")
        let group = AccountFile(path: "/etc/group", text: try target.readText("/etc/group") ?? "")
        for file in files {
            let mode = file.permissions.flatMap(Validation.mode) ?? 0o644
            var uid: UInt32 = 0
            var gid: UInt32 = 0
            if let owner = file.owner, let parts = Validation.ownerParts(owner) {
                if let user = parts.user {
                    guard let entry = Self.lookUp(user, in: passwd), let id = UInt32(entry[2]) else {
                        throw .unknownOwner(path: file.path, owner: owner)
                    }
                    uid = id
                    // `user` alone: the user's primary group.
                    if parts.group == nil, entry.count >= 4, let primary = UInt32(entry[3]) { gid = primary }
                }
                if let name = parts.group {
                    guard let entry = Self.lookUp(name, in: group), let id = UInt32(entry[2]) else {
                        throw .unknownOwner(path: file.path, owner: owner)
                    }
                    gid = id
                }
            }
            try write(file.path, file.content, mode: mode, uid: uid, gid: gid, ownership: .enforce,
                      summary: "write_files: \(file.content.utf8.count) bytes, mode \(octal(mode)), owner \(uid):\(gid)")
        }
    }

    /// The entry of `name`, or of the numeric id `name`.
    private static func lookUp(_ name: String, in file: AccountFile) -> [String]? {
        if let entry = file.entry(named: name), entry.count >= 3 { return entry }
        guard let id = Int(name) else { return nil }
        return file.entries.first { $0.count >= 3 && Int($0[2]) == id }
    }
}
