import Foundation
import Glibc
@testable import Installer
import Testing

/// True when the tests may chown (the provisioner sets numeric owners).
let runningAsRoot = geteuid() == 0

/// 2025-01-31 12:00 UTC: day 20119 since the epoch.
let provisionNow = Date(timeIntervalSince1970: 1_738_324_800)
let provisionDay = 20119

/// A minimal Debian-like installed root file system in `root`.
struct ProvisionFixture {
    let root: String

    init(root: String) throws {
        self.root = root
        try file("/etc/passwd", """
            root:x:0:0:root:/root:/bin/bash
            daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
            bin:x:2:2:bin:/bin:/usr/sbin/nologin
            nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
            existing:x:1000:1000:Existing User,,,:/home/existing:/bin/bash

            """)
        try file("/etc/group", """
            root:x:0:
            daemon:x:1:
            sudo:x:27:
            shadow:x:42:
            users:x:100:
            existing:x:1000:
            docker:x:1001:
            nogroup:x:65534:

            """)
        try file("/etc/shadow", """
            root:*:19000:0:99999:7:::
            daemon:*:19000:0:99999:7:::
            existing:$6$oldsalt$oldhash:19000:0:99999:7:::

            """, mode: 0o640, gid: 42)
        try file("/etc/gshadow", """
            root:*::
            sudo:*::
            shadow:*::
            existing:!::
            docker:!::

            """, mode: 0o640, gid: 42)
        try file("/etc/login.defs", """
            # login.defs of the test image
            UID_MIN                  1000
            UID_MAX                 60000
            GID_MIN                  1000
            GID_MAX                 60000
            UMASK           022
            HOME_MODE       0700

            """)
        try file("/etc/skel/.bashrc", "# bashrc\n")
        try file("/etc/skel/.profile", "# profile\n", mode: 0o600)
        try file("/etc/skel/.config/app/settings", "x=1\n")
        chmod(root + "/etc/skel/.config", 0o755)
        chmod(root + "/etc/skel/.config/app", 0o755)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/skel/.bash_link", withDestinationPath: ".bashrc")
        try file("/bin/bash", "#!fake bash\n", mode: 0o755)
        try file("/etc/sudoers", "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n", mode: 0o440)
        try file("/etc/sudoers.d/README", "# sudoers.d\n", mode: 0o440)
        try file("/etc/systemd/network/99-dhcp-en.network", "[Match]\nName=en*\n\n[Network]\nDHCP=yes\n")
        try file("/etc/hostname", "debian\n")
        try file("/etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        try file("/etc/environment", "LANG=C.UTF-8\nhttp_proxy=http://old.example.com:1\n")
        try file("/usr/lib/systemd/system/docker.service", """
            [Unit]
            Description=Docker Application Container Engine

            [Service]
            ExecStart=/usr/bin/dockerd

            [Install]
            WantedBy=multi-user.target
            Also=docker.socket

            """)
        try file("/usr/lib/systemd/system/systemd-networkd.service",
                 "[Service]\nExecStart=/usr/lib/systemd/systemd-networkd\n\n[Install]\nWantedBy=multi-user.target\n")
        try file("/usr/lib/systemd/system/docker.socket", "[Socket]\nListenStream=/run/docker.sock\n\n[Install]\nWantedBy=sockets.target\n")
        try file("/etc/docker/daemon.json", "{\"log-driver\": \"journald\"}\n")
        try file("/etc/subuid", "existing:100000:65536\n")
        try file("/etc/subgid", "existing:100000:65536\n")
        try FileManager.default.createDirectory(atPath: root + "/etc/cloud/cloud.cfg.d", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/etc/sysconfig", withIntermediateDirectories: true)
    }

    func file(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) throws {
        try writeText(text, to: root + path)
        if runningAsRoot { chown(root + path, uid, gid) }
        chmod(root + path, mode_t(mode))
    }

    func text(_ path: String) throws -> String {
        try String(contentsOfFile: root + path, encoding: .utf8)
    }

    /// Mode bits, uid and gid (`lstat`).
    func owner(_ path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32)? {
        var status = stat()
        guard lstat(root + path, &status) == 0 else { return nil }
        return (UInt32(status.st_mode) & 0o7777, status.st_uid, status.st_gid)
    }

    /// `0644 0:0`: mode, uid and gid.
    func attributes(_ path: String) -> String? {
        owner(path).map { "\(octal($0.mode)) \($0.uid):\($0.gid)" }
    }

    func linkTarget(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: root + path)
    }

    func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(root + path, &status) == 0
    }

    /// Every entry under the root: path, type, mode, owner and content or link target.
    func snapshot() throws -> [String: String] {
        var result: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return result }
        while let relative = enumerator.nextObject() as? String {
            let path = "/" + relative
            guard let (mode, uid, gid) = owner(path) else { continue }
            var status = stat()
            lstat(root + path, &status)
            let kind: String
            switch status.st_mode & S_IFMT {
            case S_IFLNK: kind = "link -> " + (linkTarget(path) ?? "?")
            case S_IFDIR: kind = "dir"
            default: kind = "file " + ((try? text(path)) ?? "<binary>")
            }
            result[path] = "\(String(mode, radix: 8)) \(uid):\(gid) \(kind)"
        }
        return result
    }

    func provisioner() -> SystemProvisioner {
        SystemProvisioner(root: root, now: { provisionNow })
    }
}

/// Runs `body` with a fixture in a fresh directory (`scratch/root`; `scratch` is free for things outside).
func withProvisionFixture<T>(_ body: (ProvisionFixture, URL) throws -> T) throws -> T {
    try withScratchDirectory { scratch in
        let fixture = try ProvisionFixture(root: scratch.path + "/root")
        return try body(fixture, scratch)
    }
}

/// Everything a run said: change descriptions, warnings, and what `onChange` received.
final class ChangeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ change: ProvisionChange) { lock.withLock { stored.append(change.description) } }
    var all: [String] { lock.withLock { stored } }
}
