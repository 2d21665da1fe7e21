import ArchiveKit
import MicroOS

/// A synthetic usrmerged µOS root as a scan would see it: entries in archive order, with the data of files.
enum EditPlanFixture {
    typealias Item = (entry: ArchiveEntry, data: [UInt8])

    static func unit(wantedBy: String? = "multi-user.target", extra: String = "") -> [UInt8] {
        var text = "[Unit]\nDescription=test unit\n\n[Service]\nExecStart=/usr/bin/true\n"
        if let wantedBy { text += "\n[Install]\nWantedBy=\(wantedBy)\n" }
        return Array((text + extra).utf8)
    }

    static func dir(_ path: String) -> Item { (.directory(path), []) }
    static func link(_ path: String, _ target: String) -> Item { (.symlink(path, target: target), []) }
    static func file(_ path: String, _ data: [UInt8], mode: UInt32 = 0o644) -> Item {
        (.file(path, size: Int64(data.count), permissions: mode), data)
    }

    /// The µOS-like tree: usrmerge links, the four agent units enabled for multi-user.target (tink-worker also
    /// required by provisioning.target, fluent-bit with an alias and a link under the alias name, caddy with a
    /// vendor wants link), sshd enabled and untouched by the default set, a getty template, and a link that
    /// leaves the root.
    static var microOS: [Item] {
        let system = "usr/lib/systemd/system"
        let etc = "etc/systemd/system"
        return [
            dir("./"),
            link("./bin", "usr/bin"),
            link("./sbin", "/usr/sbin"),
            link("./lib", "usr/lib"),
            link("./lib64", "usr/lib64"),
            dir("./etc/"),
            file("./etc/hostname", Array("emt\n".utf8)),
            link("./etc/evil", "../../.."),
            dir("./etc/systemd/"),
            dir("./\(etc)/"),
            dir("./\(etc)/multi-user.target.wants/"),
            link("./\(etc)/multi-user.target.wants/caddy.service", "/\(system)/caddy.service"),
            link("./\(etc)/multi-user.target.wants/device-discovery.service", "/\(system)/device-discovery.service"),
            link("./\(etc)/multi-user.target.wants/fluent-bit.service", "/\(system)/fluent-bit.service"),
            link("./\(etc)/multi-user.target.wants/td-agent-bit.service", "/\(system)/fluent-bit.service"),
            link("./\(etc)/multi-user.target.wants/sshd.service", "/\(system)/sshd.service"),
            link("./\(etc)/multi-user.target.wants/tink-worker.service", "/\(system)/tink-worker.service"),
            dir("./\(etc)/provisioning.target.requires/"),
            link("./\(etc)/provisioning.target.requires/tink-worker.service", "/\(system)/tink-worker.service"),
            link("./\(etc)/td-agent-bit.service", "/\(system)/fluent-bit.service"),
            dir("./\(etc)/getty.target.wants/"),
            link("./\(etc)/getty.target.wants/getty@tty1.service", "/\(system)/getty@.service"),
            dir("./usr/"),
            dir("./usr/bin/"),
            file("./usr/bin/bash", [0x7F, 0x45, 0x4C, 0x46], mode: 0o755),
            dir("./usr/sbin/"),
            dir("./usr/lib/"),
            dir("./usr/lib64/"),
            dir("./usr/lib/systemd/"),
            dir("./\(system)/"),
            file("./\(system)/tink-worker.service",
                 unit(extra: "RequiredBy=provisioning.target\n")),
            file("./\(system)/caddy.service", unit()),
            file("./\(system)/fluent-bit.service", unit(extra: "Alias=td-agent-bit.service\n")),
            file("./\(system)/device-discovery.service", unit()),
            file("./\(system)/sshd.service", unit()),
            file("./\(system)/getty@.service", unit(wantedBy: "getty.target", extra: "DefaultInstance=tty1\n")),
            file("./\(system)/multi-user.target", Array("[Unit]\nDescription=Multi-User System\n".utf8)),
            file("./\(system)/static.service", unit(wantedBy: nil)),
            dir("./\(system)/multi-user.target.wants/"),
            link("./\(system)/multi-user.target.wants/caddy.service", "../caddy.service"),
        ]
    }

    /// Indexes `items` the way the scan pass does: add each entry, then hand over the data it asks for.
    static func index(_ items: [Item]) throws -> RootfsIndex {
        var index = RootfsIndex()
        for item in items {
            try index.add(item.entry)
            if index.wantsContents(of: item.entry.path) { index.recordContents(item.data, of: item.entry.path) }
        }
        return index
    }

    static func microOSIndex(adding extra: [Item] = []) throws -> RootfsIndex {
        try index(microOS + extra)
    }

    /// Our installer's unit, as the request adds it.
    static let installOSUnit = Array("""
        [Unit]
        Description=Install EMT-S to the internal disk
        After=multi-user.target

        [Service]
        Type=oneshot
        ExecStart=/usr/bin/install-os

        [Install]
        WantedBy=multi-user.target

        """.utf8)
}
