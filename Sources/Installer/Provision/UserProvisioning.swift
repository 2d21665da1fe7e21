import Foundation
import Glibc

/// The user the profile asked for, as the target knows them (numeric ids from the target's passwd).
struct ProvisionedUser: Equatable {
    var name: String
    var uid: UInt32
    var gid: UInt32
    /// The home directory, in the target.
    var home: String
}

extension ProvisionSession {
    /// Creates or updates the user like `useradd -m` / `usermod` would, reading and writing the target's
    /// account files only.
    func applyUser(_ account: UserAccount) throws(ProvisionError) -> ProvisionedUser {
        let name = account.name
        let definitions = try target.readText("/etc/login.defs").map(LoginDefinitions.init(text:)) ?? LoginDefinitions()
        guard let passwdText = try target.readText("/etc/passwd") else {
            throw .malformed(path: "/etc/passwd", reason: "missing: the target does not look like an installed system")
        }
        guard let groupText = try target.readText("/etc/group") else {
            throw .malformed(path: "/etc/group", reason: "missing: the target does not look like an installed system")
        }
        var passwd = AccountFile(path: "/etc/passwd", text: passwdText)
        var group = AccountFile(path: "/etc/group", text: groupText)
        let shadowText = try target.readText("/etc/shadow")
        var shadow = AccountFile(path: "/etc/shadow", text: shadowText ?? "")
        let gshadowText = try target.readText("/etc/gshadow")
        var gshadow = gshadowText.map { AccountFile(path: "/etc/gshadow", text: $0) }

        let uid: Int
        let gid: Int
        let home: String
        var created = false
        if let entry = passwd.entry(named: name) {
            guard entry.count >= 7, let existingUID = Int(entry[2]), let existingGID = Int(entry[3]),
                  existingUID >= 0, existingGID >= 0, entry[5].hasPrefix("/") else {
                throw .malformed(path: "/etc/passwd", reason: "the entry of \(name) is not name:x:uid:gid:gecos:home:shell")
            }
            uid = existingUID
            gid = existingGID
            home = entry[5]
        } else {
            created = true
            guard let newUID = LoginDefinitions.firstFree(passwd.numbers(inField: 2), minimum: definitions.uidMin,
                                                          maximum: definitions.uidMax) else {
                throw .noFreeID(kind: "uid", minimum: definitions.uidMin, maximum: definitions.uidMax)
            }
            uid = newUID
            let usedGIDs = group.numbers(inField: 2)
            if let existing = group.entry(named: name), existing.count >= 3, let existingGID = Int(existing[2]) {
                gid = existingGID
                warn("group \(name) already exists (gid \(existingGID)); it is \(name)'s primary group")
            } else {
                // The user private group: the uid's number when free (as useradd does), else the first free gid.
                if !usedGIDs.contains(uid), uid >= definitions.gidMin, uid <= definitions.gidMax {
                    gid = uid
                } else if let free = LoginDefinitions.firstFree(usedGIDs, minimum: definitions.gidMin,
                                                                maximum: definitions.gidMax) {
                    gid = free
                } else {
                    throw .noFreeID(kind: "gid", minimum: definitions.gidMin, maximum: definitions.gidMax)
                }
                group.set([name, "x", String(gid), ""])
                gshadow?.set([name, "!", "", ""])
            }
            home = "/home/" + name
            let shell = try target.exists("/bin/bash") ? "/bin/bash" : "/bin/sh"
            passwd.set([name, "x", String(uid), String(gid), "", home, shell])
        }

        // Password: a new user gets the hash or a locked password; an existing one a new hash only.
        let today = String(daysSinceEpoch)
        if var entry = shadow.entry(named: name) {
            entry = AccountFile.padded(entry, to: 9)
            if let hash = account.passwordHash, entry[1] != hash {
                entry[1] = hash
                entry[2] = today
                shadow.set(entry)
            }
        } else {
            shadow.set([name, account.passwordHash ?? "!", today, "0", "99999", "7", "", "", ""])
        }

        // Administrators' group: sudo (Debian), else wheel (Fedora, Azure Linux).
        if let adminGroup = ["sudo", "wheel"].first(where: { group.entry(named: $0) != nil }),
           var entry = group.entry(named: adminGroup) {
            entry = AccountFile.padded(entry, to: 4)
            entry[3] = AccountFile.adding(name, toMembers: entry[3])
            group.set(entry)
            if var secure = gshadow?.entry(named: adminGroup) {
                secure = AccountFile.padded(secure, to: 4)
                secure[3] = AccountFile.adding(name, toMembers: secure[3])
                gshadow?.set(secure)
            }
        } else {
            warn("the target has neither a sudo nor a wheel group: \(name) is not an administrator by group")
        }

        let shadowGroup = group.entry(named: "shadow").flatMap { $0.count >= 3 ? UInt32($0[2]) : nil }
        let description = created ? "user \(name) (uid \(uid), gid \(gid))" : "user \(name) updated"
        try write("/etc/group", group.text, summary: description)
        if let gshadow { try write("/etc/gshadow", gshadow.text, mode: 0o640, gid: shadowGroup ?? 0, summary: description) }
        try write("/etc/passwd", passwd.text, summary: description)
        try write("/etc/shadow", shadow.text, mode: shadowGroup == nil ? 0o600 : 0o640, gid: shadowGroup ?? 0,
                  summary: description + (account.passwordHash == nil ? "" : ", password set (hash not shown)"))

        let user = ProvisionedUser(name: name, uid: UInt32(uid), gid: UInt32(gid), home: home)
        try createHome(user, mode: definitions.homeMode)
        try applySubordinateIDs(user, definitions: definitions)
        try applySudo(account)
        if !account.authorizedKeys.isEmpty { try applyAuthorizedKeys(account.authorizedKeys, user: user) }
        return user
    }

    /// A range in `/etc/subuid` and `/etc/subgid` for a user who has none, like useradd gives a new user;
    /// only where the target has those files.
    private func applySubordinateIDs(_ user: ProvisionedUser, definitions: LoginDefinitions) throws(ProvisionError) {
        for (path, limits) in [("/etc/subuid", definitions.subUID), ("/etc/subgid", definitions.subGID)] {
            guard let text = try target.readText(path) else { continue }
            let ranges = SubordinateRange.ranges(text)
            guard !ranges.contains(where: { $0.name == user.name }) else { continue }
            guard let start = SubordinateRange.firstFree(after: ranges, limits: limits) else {
                warn("\(path): no free range of \(limits.count) ids for \(user.name) in \(limits.minimum)-\(limits.maximum)")
                continue
            }
            let separator = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
            try write(path, text + separator + "\(user.name):\(start):\(limits.count)\n",
                      summary: "subordinate ids \(start)-\(start + limits.count - 1) for \(user.name)")
        }
    }

    /// Creates the home directory from `/etc/skel` when it does not exist.
    private func createHome(_ user: ProvisionedUser, mode: UInt32) throws(ProvisionError) {
        guard try !target.exists(user.home) else { return }
        let skel = try target.resolve("/etc/skel")
        let hasSkel = TargetRoot.lstatInfo(skel.host)?.kind == .directory
        let location = try ensureDirectory(user.home, mode: mode, uid: user.uid, gid: user.gid,
                                           summary: "home of \(user.name), mode \(octal(mode)), owner \(user.uid):\(user.gid)"
                                               + (hasSkel ? ", from /etc/skel" : ""))
        guard hasSkel else { return }
        _ = try copyTree(from: skel.host, shownAs: "/etc/skel", to: location.host, uid: user.uid, gid: user.gid)
    }

    /// Copies a directory tree with the modes of its entries, owned by `uid:gid`. Links are copied as links
    /// (never followed); devices, sockets and fifos are skipped. Returns how many entries were copied.
    private func copyTree(from source: String, shownAs shown: String, to destination: String,
                          uid: UInt32, gid: UInt32) throws(ProvisionError) -> Int {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: source).sorted()
        } catch {
            throw .io(path: shown, operation: "listing", reason: "\(error)")
        }
        var count = 0
        for name in names {
            let from = source + "/" + name
            let to = destination + "/" + name
            let shownFrom = shown + "/" + name
            guard let info = TargetRoot.lstatInfo(from) else { continue }
            switch info.kind {
            case .directory:
                guard mkdir(to, 0o700) == 0 else {
                    throw .io(path: shownFrom, operation: "creating its copy", reason: TargetRoot.lastError())
                }
                let inner = try copyTree(from: from, shownAs: shownFrom, to: to, uid: uid, gid: gid)
                count += 1 + inner
                try setOwnership(to, shownAs: shownFrom, mode: info.mode, uid: uid, gid: gid)
            case .regular:
                let bytes = try TargetRoot.readFile(from, shownAs: shownFrom, limit: 64 << 20)
                try TargetRoot.writeAtomically(to, shownAs: shownFrom, bytes: bytes, mode: info.mode, uid: uid, gid: gid)
                count += 1
            case .symlink:
                guard let destination = SysfsFiles.linkTarget(from), symlink(destination, to) == 0,
                      lchown(to, uid, gid) == 0 else {
                    throw .io(path: shownFrom, operation: "copying the link", reason: TargetRoot.lastError())
                }
                count += 1
            case .other:
                continue
            }
        }
        return count
    }

    /// `/etc/sudoers.d/90-emts-<name>` with `NOPASSWD:ALL`, or its removal when not wanted.
    private func applySudo(_ account: UserAccount) throws(ProvisionError) {
        let path = "/etc/sudoers.d/90-emts-\(account.name)"
        guard account.passwordlessSudo else {
            try remove(path, summary: "passwordless sudo for \(account.name) no longer configured")
            return
        }
        try ensureDirectory("/etc/sudoers.d", mode: 0o750)
        try write(path, "# Written by install-os.\n\(account.name) ALL=(ALL) NOPASSWD:ALL\n", mode: 0o440,
                  ownership: .enforce, summary: "passwordless sudo for \(account.name)")
        if let sudoers = try target.readText("/etc/sudoers") {
            let includes = sudoers.split(separator: "\n").contains { line in
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                return words.count >= 2 && (words[0] == "@includedir" || words[0] == "#includedir")
                    && words[1] == "/etc/sudoers.d"
            }
            if !includes { warn("/etc/sudoers does not include /etc/sudoers.d: the sudo rule for \(account.name) has no effect") }
        } else {
            warn("the target has no /etc/sudoers (sudo not installed?): the sudo rule for \(account.name) has no effect")
        }
    }

    /// `~/.ssh/authorized_keys` (0600) in `~/.ssh` (0700), owned by the user; keys already there stay.
    private func applyAuthorizedKeys(_ keys: [String], user: ProvisionedUser) throws(ProvisionError) {
        let directory = user.home + "/.ssh"
        try ensureDirectory(directory, mode: 0o700, uid: user.uid, gid: user.gid, enforce: true,
                            summary: "SSH directory of \(user.name)")
        let path = directory + "/authorized_keys"
        var lines = (try target.readText(path) ?? "").split(separator: "\n").map(String.init)
        let present = Set(lines.map(\.trimmingWhitespace))
        var added = 0
        for key in keys.map(\.trimmingWhitespace) where !present.contains(key) && !lines.contains(key) {
            lines.append(key)
            added += 1
        }
        try write(path, lines.map { $0 + "\n" }.joined(), mode: 0o600, uid: user.uid, gid: user.gid,
                  ownership: .enforce,
                  summary: "\(keys.count) SSH key\(keys.count == 1 ? "" : "s") of \(user.name) (\(added) new; keys not shown)")
    }
}
