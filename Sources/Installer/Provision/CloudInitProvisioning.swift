import Foundation
import Yams

extension ProvisionSession {
    static let cloudConfigFile = "/etc/cloud/cloud.cfg.d/99-emts-installer.cfg"
    static let dsIdentifyFile = "/etc/cloud/ds-identify.cfg"

    /// cloud-init's installer config (`runcmd`: the service lines, then the profile's commands; `ntp`) and
    /// `datasource: NoCloud` for ds-identify. Nothing when the profile has nothing for cloud-init and the
    /// target has no `/etc/cloud`.
    func applyCloudInit(_ profile: CloudInitProfile, ntpServers: [String]) throws(ProvisionError) {
        let runcmd = profile.servicesEnable.map { "systemctl enable --now \($0)" }
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
        guard !pairs.isEmpty || cloudDirectory else { return }
        if !pairs.isEmpty {
            var parts: [String] = []
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
