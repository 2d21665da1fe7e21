import Foundation
import Glibc
@testable import Installer
import Testing

private let aliceHash = "$6$saltsalt$SECRETHASHVALUE0123456789abcdefABCDEF/."
private let aliceKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISECRETKEYMATERIAL alice@laptop"
private let proxyURL = "http://bob:s3cretpw@proxy.example.com:3128"

/// Everything the brief lists, on the Debian-like fixture.
private let fullProfile = SystemProfile(
    hostname: "edge-01",
    user: UserAccount(name: "alice", passwordHash: aliceHash, authorizedKeys: [aliceKey], passwordlessSudo: true),
    proxy: ProxySettings(http: proxyURL, https: "http://proxy.example.com:3129",
                         noProxy: ["localhost", "127.0.0.1", ".example.com"]),
    network: .dhcp(.mac("52:54:00:AB:cd:01")),
    ntpServers: ["ntp1.example.com", "10.0.0.1"],
    hugepages: 512,
    hostType: .container,
    cloudInit: CloudInitProfile(
        servicesEnable: ["edge-agent.service"], servicesDisable: ["apt-daily.timer"],
        writeFiles: [
            ProvisionFile(path: "/opt/app/config.txt", permissions: "0600", content: "token=abc\n", owner: "alice:alice"),
            ProvisionFile(path: "/etc/motd", permissions: "644", content: "welcome\n"),
        ],
        runcmd: ["echo first boot > /var/log/first-boot", "123"],
        instanceID: "emts-5f0c1d2e",
        helperScripts: [HelperScript(name: "collect-logs.sh", bytes: Array("#!/bin/sh\necho logs\n".utf8),
                                     source: "EMTS-CONFIG:/cloud-scripts/collect-logs.sh (/dev/sdb3)")]),
    swapUUID: "0b6e3a52-8f1c-4c35-9d1e-2f7c0a9b8e11")

@Suite(.enabled(if: runningAsRoot, "the provisioner sets numeric owners: needs root"))
struct ProvisionerTests {
    @Test func appliesAFullProfile() throws {
        try withProvisionFixture { fixture, _ in
            let report = try fixture.provisioner().apply(fullProfile)

            // Hostname.
            #expect(try fixture.text("/etc/hostname") == "edge-01\n")
            #expect(try fixture.text("/etc/hosts")
                == "127.0.0.1\tlocalhost\n127.0.1.1\tedge-01\n\n::1\tlocalhost ip6-localhost ip6-loopback\n")

            // Accounts: uid 1001 is free; gid 1001 is docker's, so the private group takes 1002.
            let passwd = try fixture.text("/etc/passwd")
            #expect(passwd.hasSuffix("existing:x:1000:1000:Existing User,,,:/home/existing:/bin/bash\n"
                + "alice:x:1001:1002::/home/alice:/bin/bash\n"))
            let group = try fixture.text("/etc/group")
            #expect(group.contains("\nsudo:x:27:alice\n"))
            #expect(group.hasSuffix("nogroup:x:65534:\nalice:x:1002:\n"))
            let gshadow = try fixture.text("/etc/gshadow")
            #expect(gshadow.contains("\nsudo:*::alice\n"))
            #expect(gshadow.hasSuffix("docker:!::\nalice:!::\n"))
            #expect(try fixture.text("/etc/shadow").hasSuffix(
                "existing:$6$oldsalt$oldhash:19000:0:99999:7:::\nalice:\(aliceHash):\(provisionDay):0:99999:7:::\n"))
            #expect(fixture.attributes("/etc/shadow") == "0640 0:42", "shadow keeps its mode and owner")
            #expect(fixture.attributes("/etc/gshadow") == "0640 0:42")
            #expect(fixture.attributes("/etc/passwd") == "0644 0:0")

            // Home from /etc/skel: HOME_MODE, modes of the skeleton, everything alice's.
            #expect(fixture.attributes("/home/alice") == "0700 1001:1002")
            #expect(try fixture.text("/home/alice/.bashrc") == "# bashrc\n")
            #expect(fixture.attributes("/home/alice/.bashrc") == "0644 1001:1002")
            #expect(fixture.attributes("/home/alice/.profile") == "0600 1001:1002")
            #expect(fixture.attributes("/home/alice/.config/app") == "0755 1001:1002")
            #expect(fixture.attributes("/home/alice/.config/app/settings") == "0644 1001:1002")
            #expect(fixture.linkTarget("/home/alice/.bash_link") == ".bashrc")
            #expect(fixture.attributes("/home/alice/.bash_link")?.hasSuffix(" 1001:1002") == true)

            // sudo and SSH.
            #expect(try fixture.text("/etc/sudoers.d/90-emts-alice").hasSuffix("alice ALL=(ALL) NOPASSWD:ALL\n"))
            #expect(fixture.attributes("/etc/sudoers.d/90-emts-alice") == "0440 0:0")
            #expect(fixture.attributes("/home/alice/.ssh") == "0700 1001:1002")
            #expect(try fixture.text("/home/alice/.ssh/authorized_keys") == aliceKey + "\n")
            #expect(fixture.attributes("/home/alice/.ssh/authorized_keys") == "0600 1001:1002")

            // Proxies.
            #expect(try fixture.text("/etc/environment") == """
                LANG=C.UTF-8
                http_proxy=\(proxyURL)
                HTTP_PROXY=\(proxyURL)
                https_proxy=http://proxy.example.com:3129
                HTTPS_PROXY=http://proxy.example.com:3129
                no_proxy=localhost,127.0.0.1,.example.com
                NO_PROXY=localhost,127.0.0.1,.example.com

                """)
            let dropIn = """
                [Service]
                Environment="HTTP_PROXY=\(proxyURL)"
                Environment="HTTPS_PROXY=http://proxy.example.com:3129"
                Environment="NO_PROXY=localhost,127.0.0.1,.example.com"

                """
            #expect(try fixture.text("/etc/systemd/system/containerd.service.d/http-proxy.conf") == dropIn)
            #expect(try fixture.text("/etc/systemd/system/docker.service.d/http-proxy.conf") == dropIn)
            #expect(try fixture.text("/etc/sysconfig/proxy") == """
                PROXY_ENABLED="yes"
                HTTP_PROXY="\(proxyURL)"
                HTTPS_PROXY="http://proxy.example.com:3129"
                NO_PROXY="localhost,127.0.0.1,.example.com"

                """)

            // Network, time, memory.
            #expect(try fixture.text("/etc/systemd/network/99-dhcp-en.network")
                == "[Match]\nMACAddress=52:54:00:ab:cd:01\n\n[Network]\nDHCP=yes\n")
            #expect(try fixture.text("/etc/systemd/timesyncd.conf.d/10-emts.conf").hasSuffix(
                "[Time]\nNTP=ntp1.example.com 10.0.0.1\n"))
            #expect(try fixture.text("/etc/sysctl.d/90-emts-hugepages.conf").hasSuffix("vm.nr_hugepages = 512\n"))

            // Docker.
            #expect(fixture.linkTarget("/etc/systemd/system/multi-user.target.wants/docker.service")
                == "/usr/lib/systemd/system/docker.service")
            // The network files need systemd-networkd: enabled with them.
            #expect(fixture.linkTarget("/etc/systemd/system/multi-user.target.wants/systemd-networkd.service")
                == "/usr/lib/systemd/system/systemd-networkd.service")
            #expect(fixture.linkTarget("/etc/systemd/system/sockets.target.wants/docker.socket")
                == "/usr/lib/systemd/system/docker.socket")
            #expect(try fixture.text("/etc/docker/daemon.json")
                == "{\n  \"data-root\" : \"/opt/docker-data\",\n  \"log-driver\" : \"journald\"\n}\n")
            let client = try fixture.text("/home/alice/.docker/config.json")
            #expect(client.contains("\"httpProxy\" : \"\(proxyURL)\""))
            #expect(client.contains("\"noProxy\" : \"localhost,127.0.0.1,.example.com\""))
            #expect(fixture.attributes("/home/alice/.docker") == "0700 1001:1002")
            #expect(fixture.attributes("/home/alice/.docker/config.json") == "0600 1001:1002")

            // cloud-init.
            #expect(try fixture.text("/etc/cloud/cloud.cfg.d/99-emts-installer.cfg") == """
                #cloud-config
                # Written by install-os.
                runcmd:
                - systemctl enable --now edge-agent.service
                - systemctl disable --now apt-daily.timer
                - echo first boot > /var/log/first-boot
                - '123'
                ntp:
                  enabled: true
                  servers:
                  - ntp1.example.com
                  - 10.0.0.1

                """)
            #expect(try fixture.text("/etc/cloud/ds-identify.cfg") == "datasource: NoCloud\n")
            #expect(try fixture.text("/var/lib/cloud/seed/nocloud/meta-data")
                == "instance-id: emts-5f0c1d2e\nlocal-hostname: edge-01\n")
            #expect(try fixture.text("/var/lib/cloud/seed/nocloud/user-data") == "#cloud-config\n{}\n")
            #expect(try fixture.text("/etc/cloud/collect-logs.sh") == "#!/bin/sh\necho logs\n")
            #expect(fixture.attributes("/etc/cloud/collect-logs.sh") == "0755 0:0")

            // Swap, subordinate ids (the next free range after existing's).
            #expect(try fixture.text("/etc/fstab") == "UUID=0b6e3a52-8f1c-4c35-9d1e-2f7c0a9b8e11\tnone\tswap\tdefaults\t0\t0\n")
            #expect(try fixture.text("/etc/subuid") == "existing:100000:65536\nalice:165536:65536\n")
            #expect(try fixture.text("/etc/subgid") == "existing:100000:65536\nalice:165536:65536\n")

            // write_files, owners from the target's passwd/group.
            #expect(try fixture.text("/opt/app/config.txt") == "token=abc\n")
            #expect(fixture.attributes("/opt/app/config.txt") == "0600 1001:1002")
            #expect(fixture.attributes("/opt/app") == "0755 0:0")
            #expect(try fixture.text("/etc/motd") == "welcome\n")
            #expect(fixture.attributes("/etc/motd") == "0644 0:0")

            #expect(report.warnings.isEmpty, "\(report.warnings)")
            let actions = Dictionary(report.changes.map { ($0.path, $0.action) }, uniquingKeysWith: { first, _ in first })
            #expect(actions["/etc/hostname"] == .replaced)
            #expect(actions["/etc/passwd"] == .appended(lines: 1))
            #expect(actions["/etc/sudoers.d/90-emts-alice"] == .created)
            #expect(actions["/etc/systemd/network/99-dhcp-en.network"] == .replaced)
        }
    }

    @Test func secondRunChangesNothing() throws {
        try withProvisionFixture { fixture, _ in
            let provisioner = fixture.provisioner()
            try provisioner.apply(fullProfile)
            let first = try fixture.snapshot()
            let again = try provisioner.apply(fullProfile)
            #expect(again.changes == [], "\(again.changes.map(\.description))")
            #expect(try fixture.snapshot() == first)
            // No duplicate lines anywhere.
            for path in ["/etc/environment", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/hosts",
                         "/home/alice/.ssh/authorized_keys"] {
                let lines = try fixture.text(path).split(separator: "\n").filter { !$0.isEmpty }
                #expect(Set(lines).count == lines.count, "\(path)")
            }
        }
    }

    @Test func kubernetesHostIsIdempotentToo() throws {
        try withProvisionFixture { fixture, _ in
            try fixture.file("/etc/rancher/k3s/config.yaml", "write-kubeconfig-mode: \"0644\"\n")
            let profile = SystemProfile(proxy: ProxySettings(http: "http://proxy:3128"), hugepages: 0, hostType: .kubernetes)
            let provisioner = fixture.provisioner()
            try provisioner.apply(profile)
            #expect(try fixture.text("/etc/rancher/k3s/config.yaml")
                == "write-kubeconfig-mode: \"0644\"\ndata-dir: /opt/rancher/k3s\n")
            #expect(try fixture.text("/etc/environment") == """
                LANG=C.UTF-8
                http_proxy=http://proxy:3128
                HTTP_PROXY=http://proxy:3128
                PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/rancher/k3s/data/current/bin

                """)
            #expect(!fixture.exists("/etc/systemd/system/multi-user.target.wants/docker.service"))
            let snapshot = try fixture.snapshot()
            #expect(try provisioner.apply(profile).changes == [])
            #expect(try fixture.snapshot() == snapshot)
        }
    }

    @Test func kubernetesStartsK3sByTheHelperScriptOrTheUnit() throws {
        try withProvisionFixture { fixture, _ in
            try fixture.file("/usr/lib/systemd/system/k3s.service",
                             "[Service]\nExecStart=/usr/local/bin/k3s server\n\n[Install]\nWantedBy=multi-user.target\n")
            let script = HelperScript(name: HelperScript.k3sConfigure, bytes: Array("#!/bin/sh\n".utf8), source: "test")
            let profile = SystemProfile(hostType: .kubernetes,
                                        cloudInit: CloudInitProfile(runcmd: ["echo after"], helperScripts: [script]))
            try fixture.provisioner().apply(profile)
            #expect(try fixture.text("/etc/cloud/cloud.cfg.d/99-emts-installer.cfg").hasSuffix(
                "runcmd:\n- /etc/cloud/k3s-configure.sh\n- echo after\n"), "the script first, then the configuration's lines")
            #expect(fixture.attributes("/etc/cloud/k3s-configure.sh") == "0755 0:0")
            #expect(!fixture.exists("/etc/systemd/system/multi-user.target.wants/k3s.service"), "the script starts k3s")
        }
        try withProvisionFixture { fixture, _ in
            try fixture.file("/usr/lib/systemd/system/k3s.service",
                             "[Service]\nExecStart=/usr/local/bin/k3s server\n\n[Install]\nWantedBy=multi-user.target\n")
            try fixture.provisioner().apply(SystemProfile(hostType: .kubernetes))
            #expect(fixture.linkTarget("/etc/systemd/system/multi-user.target.wants/k3s.service")
                == "/usr/lib/systemd/system/k3s.service")
            #expect(!fixture.exists("/etc/cloud/cloud.cfg.d/99-emts-installer.cfg"))
        }
    }

    @Test func swapAndSubordinateIDsAreNotRepeated() throws {
        try withProvisionFixture { fixture, _ in
            let uuid = "0b6e3a52-8f1c-4c35-9d1e-2f7c0a9b8e11"
            try fixture.file("/etc/fstab", "/dev/root / ext4 defaults 0 1\nUUID=\(uuid) none swap sw 0 0")
            try fixture.file("/etc/subuid", "existing:100000:65536\nalice:300000:1000\n")
            try fixture.provisioner().apply(SystemProfile(user: UserAccount(name: "alice"), swapUUID: uuid))
            #expect(try fixture.text("/etc/fstab") == "/dev/root / ext4 defaults 0 1\nUUID=\(uuid) none swap sw 0 0")
            #expect(try fixture.text("/etc/subuid") == "existing:100000:65536\nalice:300000:1000\n")
            #expect(try fixture.text("/etc/subgid") == "existing:100000:65536\nalice:165536:65536\n")
        }
    }

    @Test func updatesAnExistingUser() throws {
        try withProvisionFixture { fixture, _ in
            let report = try fixture.provisioner().apply(SystemProfile(
                user: UserAccount(name: "existing", passwordHash: "$6$new$newhash", authorizedKeys: ["ssh-rsa AAAAB3 k1"])))
            let passwd = try fixture.text("/etc/passwd")
            #expect(passwd.split(separator: "\n").filter { $0.hasPrefix("existing:") }.count == 1, "no second entry")
            #expect(try fixture.text("/etc/shadow").contains("\nexisting:$6$new$newhash:\(provisionDay):0:99999:7:::\n"))
            #expect(try fixture.text("/etc/group").contains("\nsudo:x:27:existing\n"))
            #expect(!(try fixture.text("/etc/group")).contains("existing:x:1001"))
            #expect(fixture.attributes("/home/existing/.ssh/authorized_keys") == "0600 1000:1000")
            #expect(!fixture.exists("/etc/sudoers.d/90-emts-existing"))
            #expect(report.changes.allSatisfy { !$0.description.contains("newhash") })
        }
    }

    @Test func usesWheelAndPlainShellWhenDebiansAreMissing() throws {
        try withProvisionFixture { fixture, _ in
            try fixture.file("/etc/group", "root:x:0:\nwheel:x:10:root\n")
            try FileManager.default.removeItem(atPath: fixture.root + "/etc/gshadow")
            try FileManager.default.removeItem(atPath: fixture.root + "/bin/bash")
            try FileManager.default.removeItem(atPath: fixture.root + "/etc/login.defs")
            try fixture.provisioner().apply(SystemProfile(user: UserAccount(name: "ops")))
            #expect(try fixture.text("/etc/group") == "root:x:0:\nwheel:x:10:root,ops\nops:x:1001:\n")
            #expect(try fixture.text("/etc/passwd").hasSuffix("ops:x:1001:1001::/home/ops:/bin/sh\n"))
            #expect(try fixture.text("/etc/shadow").hasSuffix("ops:!:\(provisionDay):0:99999:7:::\n"), "locked password")
            #expect(!fixture.exists("/etc/gshadow"), "not created when the image has none")
            #expect(fixture.attributes("/home/ops") == "0755 1001:1001", "login.defs defaults")
        }
    }

    @Test func fullyQualifiedNamesPercentSignsAndBrokenJSON() throws {
        try withProvisionFixture { fixture, _ in
            try fixture.file("/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n")
            try fixture.provisioner().apply(SystemProfile(hostname: "edge-01.plant.example.com",
                                                          proxy: ProxySettings(https: "http://u:p%40ss@proxy:8080")))
            #expect(try fixture.text("/etc/hosts")
                == "127.0.0.1 localhost\n127.0.1.1\tedge-01.plant.example.com edge-01\n::1 localhost\n")
            #expect(try fixture.text("/etc/systemd/system/docker.service.d/http-proxy.conf")
                == "[Service]\nEnvironment=\"HTTPS_PROXY=http://u:p%%40ss@proxy:8080\"\n", "% doubled for systemd")
            #expect(try fixture.text("/etc/environment").contains("\nhttps_proxy=http://u:p%40ss@proxy:8080\n"))

            try fixture.file("/etc/docker/daemon.json", "[1, 2]\n")
            #expect(throws: ProvisionError.malformed(path: "/etc/docker/daemon.json", reason: "not a JSON object")) {
                try fixture.provisioner().apply(SystemProfile(hostType: .container))
            }
        }
    }

    @Test func anEmptyProfileChangesNothing() throws {
        try withProvisionFixture { fixture, _ in
            let report = try fixture.provisioner().apply(SystemProfile())
            #expect(report.changes.map(\.path) == ["/etc/cloud/ds-identify.cfg"], "cloud-init is pinned to NoCloud")
            try FileManager.default.removeItem(atPath: fixture.root + "/etc/cloud")
            let before = try fixture.snapshot()
            #expect(try fixture.provisioner().apply(SystemProfile()) == ProvisionReport())
            #expect(try fixture.snapshot() == before)
        }
    }

    @Test func staticAddressAndDefaultDHCP() throws {
        try withProvisionFixture { fixture, _ in
            try fixture.provisioner().apply(SystemProfile(network: .staticAddress(StaticNetwork(
                match: .name("enp1s0"), address: "192.168.10.5/24", gateway: "192.168.10.1", dns: ["1.1.1.1", "fd00::53"]))))
            #expect(try fixture.text("/etc/systemd/network/10-emts-static.network") == """
                # Written by install-os.
                [Match]
                Name=enp1s0

                [Network]
                Address=192.168.10.5/24
                Gateway=192.168.10.1
                DNS=1.1.1.1
                DNS=fd00::53

                """)
            try FileManager.default.removeItem(atPath: fixture.root + "/etc/systemd/network/99-dhcp-en.network")
            try fixture.provisioner().apply(SystemProfile(network: .dhcp(nil)))
            #expect(try fixture.text("/etc/systemd/network/99-dhcp-en.network")
                == "# Written by install-os.\n[Match]\nName=en*\n\n[Network]\nDHCP=yes\n")
        }
    }
}

@Suite(.enabled(if: runningAsRoot, "the provisioner sets numeric owners: needs root"))
struct ProvisionSafetyTests {
    @Test func refusesALinkOutOfTheRoot() throws {
        try withProvisionFixture { fixture, scratch in
            let outside = scratch.path + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.removeItem(atPath: fixture.root + "/etc/hostname")
            // From the host, root/etc/../../outside/x is scratch/outside/x.
            try FileManager.default.createSymbolicLink(atPath: fixture.root + "/etc/hostname",
                                                       withDestinationPath: "../../outside/x")
            let hosts = try fixture.text("/etc/hosts")
            #expect(throws: ProvisionError.symlinkEscape(path: "/etc/hostname", link: "/etc/hostname",
                                                         target: "../../outside/x")) {
                try fixture.provisioner().apply(SystemProfile(hostname: "edge-01"))
            }
            #expect(!FileManager.default.fileExists(atPath: outside + "/x"), "nothing written outside")
            #expect(try fixture.text("/etc/hosts") == hosts)
            let message = ProvisionError.symlinkEscape(path: "/etc/hostname", link: "/etc/hostname",
                                                       target: "../../outside/x").description
            #expect(message.contains("/etc/hostname") && message.contains("out of the target's root"))
        }
    }

    @Test func refusesADirectoryLinkOutOfTheRoot() throws {
        try withProvisionFixture { fixture, scratch in
            let outside = scratch.path + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: fixture.root + "/etc/sysctl.d",
                                                       withDestinationPath: "../../../../../../../../.." + outside)
            #expect(throws: ProvisionError.self) {
                try fixture.provisioner().apply(SystemProfile(hugepages: 8))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        }
    }

    @Test func absoluteLinksStayInsideTheRoot() throws {
        try withProvisionFixture { fixture, scratch in
            // An absolute link means the target's own path (as under chroot), never the host's.
            let outside = scratch.path + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.removeItem(atPath: fixture.root + "/etc/hostname")
            try FileManager.default.createSymbolicLink(atPath: fixture.root + "/etc/hostname",
                                                       withDestinationPath: outside + "/x")
            try fixture.provisioner().apply(SystemProfile(hostname: "edge-01"))
            #expect(!FileManager.default.fileExists(atPath: outside + "/x"), "the host's path is not written")
            #expect(try fixture.text(outside + "/x") == "edge-01\n", "the target's path is")
            #expect(fixture.linkTarget("/etc/hostname") == outside + "/x")
        }
    }

    @Test func writeFilesStayInsideTheRoot() throws {
        try withProvisionFixture { fixture, scratch in
            let escaping = SystemProfile(cloudInit: CloudInitProfile(writeFiles: [
                ProvisionFile(path: "/../../outside/evil", content: "x")]))
            #expect(throws: ProvisionError.self) { try fixture.provisioner().apply(escaping) }
            try FileManager.default.createDirectory(atPath: scratch.path + "/outside", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: fixture.root + "/opt", withDestinationPath: "../outside")
            let throughLink = SystemProfile(cloudInit: CloudInitProfile(writeFiles: [
                ProvisionFile(path: "/opt/evil", content: "x")]))
            #expect(throws: ProvisionError.symlinkEscape(path: "/opt/evil", link: "/opt", target: "../outside")) {
                try fixture.provisioner().apply(throughLink)
            }
            #expect(!FileManager.default.fileExists(atPath: scratch.path + "/outside/evil"))
            let unknown = SystemProfile(cloudInit: CloudInitProfile(writeFiles: [
                ProvisionFile(path: "/etc/x", content: "x", owner: "nobody-here:root")]))
            #expect(throws: ProvisionError.unknownOwner(path: "/etc/x", owner: "nobody-here:root")) {
                try fixture.provisioner().apply(unknown)
            }
        }
    }

    @Test func invalidProfilesWriteNothing() throws {
        try withProvisionFixture { fixture, _ in
            let before = try fixture.snapshot()
            let profiles: [SystemProfile] = [
                SystemProfile(hostname: "bad_host name"),
                SystemProfile(hostname: "ok", user: UserAccount(name: "Alice")),
                SystemProfile(hostname: "ok", user: UserAccount(name: "alice", passwordHash: "$6$a:b")),
                SystemProfile(hostname: "ok", user: UserAccount(name: "alice", authorizedKeys: ["ssh-rsa A\nssh-rsa B"])),
                SystemProfile(hostname: "ok", proxy: ProxySettings(http: "http://a b")),
                SystemProfile(hostname: "ok", network: .dhcp(.mac("52:54:00:12:34"))),
                SystemProfile(hostname: "ok", network: .staticAddress(StaticNetwork(match: .name("eth0"), address: "10.0.0.1/33"))),
                SystemProfile(hostname: "ok", hugepages: -1),
                SystemProfile(hostname: "ok", cloudInit: CloudInitProfile(servicesEnable: ["x; rm -rf /"])),
                SystemProfile(hostname: "ok", cloudInit: CloudInitProfile(writeFiles: [
                    ProvisionFile(path: "/etc/x", permissions: "0999", content: "")])),
            ]
            for profile in profiles {
                #expect(throws: ProvisionError.self) { try fixture.provisioner().apply(profile) }
            }
            #expect(try fixture.snapshot() == before)
            // The message names the field, not the hash.
            do {
                try fixture.provisioner().apply(SystemProfile(user: UserAccount(name: "alice", passwordHash: "$6$SECRET:x")))
                Issue.record("accepted a hash with a colon")
            } catch {
                #expect(!"\(error)".contains("SECRET"))
            }
        }
    }

    @Test func secretsNeverReachTheLog() throws {
        try withProvisionFixture { fixture, _ in
            let log = ChangeLog()
            let report = try fixture.provisioner().apply(fullProfile) { log.add($0) }
            let lines = log.all + report.logLines
            #expect(log.all == report.changes.map(\.description))
            #expect(!lines.isEmpty)
            for line in lines {
                #expect(!line.contains("SECRETHASH"), "\(line)")
                #expect(!line.contains("SECRETKEY"), "\(line)")
                #expect(!line.contains("s3cretpw"), "\(line)")
                #expect(!line.contains("bob"), "\(line)")
                #expect(!line.contains("token=abc"), "\(line)")
                #expect(!line.contains("first-boot"), "\(line)")
            }
            #expect(lines.contains { $0.contains("http://***@proxy.example.com:3128") })
        }
    }

    @Test func missingAndMaskedUnitsAreWarnings() throws {
        try withProvisionFixture { fixture, _ in
            try FileManager.default.createDirectory(atPath: fixture.root + "/etc/systemd/system", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: fixture.root + "/etc/systemd/system/docker.service",
                                                       withDestinationPath: "/dev/null")
            var report = try fixture.provisioner().apply(SystemProfile(hostType: .container))
            #expect(report.warnings.count == 1 && report.warnings[0].contains("masked"), "\(report.warnings)")
            try FileManager.default.removeItem(atPath: fixture.root + "/etc/systemd/system/docker.service")
            try FileManager.default.removeItem(atPath: fixture.root + "/usr/lib/systemd/system/docker.service")
            report = try fixture.provisioner().apply(SystemProfile(hostType: .container))
            #expect(report.warnings == ["docker.service is not in the target's unit directories: not enabled"])
            #expect(try fixture.text("/etc/docker/daemon.json").contains("/opt/docker-data"))
        }
    }
}

@Suite(.enabled(if: runningAsRoot, "the provisioner sets numeric owners: needs root"))
struct ProvisionSELinuxTests {
    @Test func replacedFilesKeepTheirLabelAndNewOnesGetThePolicysLabel() throws {
        try withProvisionFixture { fixture, _ in
            let shadowLabel = Array("system_u:object_r:shadow_t:s0".utf8) + [0]
            let descriptor = open(fixture.root + "/etc/shadow", O_RDONLY)
            let labeled = SELinuxLabel.set(shadowLabel, on: descriptor)
            close(descriptor)
            guard labeled else {
                Issue.record("this file system takes no security.selinux attribute (tests need tmpfs or ext4 as root)")
                return
            }
            try fixture.file("/etc/selinux/config", "# comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n")
            // The target's policy, in file_contexts' text form; the later, more specific rule wins.
            try fixture.file("/etc/selinux/targeted/contexts/files/file_contexts", """
                /.*\tsystem_u:object_r:default_t:s0
                /etc(/.*)?\tsystem_u:object_r:etc_t:s0
                /etc/sudoers\\.d(/.*)?\tsystem_u:object_r:sudo_etc_t:s0
                /home\tsystem_u:object_r:home_root_t:s0
                /home/[^/]+\t-d\tunconfined_u:object_r:user_home_dir_t:s0
                /home/[^/]+/.+\tunconfined_u:object_r:user_home_t:s0
                /home/[^/]+/\\.ssh(/.*)?\tunconfined_u:object_r:ssh_home_t:s0
                /srv/nolabel\t<<none>>

                """)
            let profile = SystemProfile(user: UserAccount(name: "alice", authorizedKeys: ["ssh-ed25519 AAAAC3Nz k"],
                                                          passwordlessSudo: true),
                                        cloudInit: CloudInitProfile(writeFiles: [ProvisionFile(path: "/srv/nolabel", content: "x")]))
            let report = try fixture.provisioner().apply(profile)
            func label(_ path: String) -> String? {
                SELinuxLabel.read(fixture.root + path).map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            }
            #expect(SELinuxLabel.read(fixture.root + "/etc/shadow") == shadowLabel, "the label survives the rename")
            #expect(label("/home/alice") == "unconfined_u:object_r:user_home_dir_t:s0")
            #expect(label("/home/alice/.bashrc") == "unconfined_u:object_r:user_home_t:s0")
            #expect(label("/home/alice/.ssh") == "unconfined_u:object_r:ssh_home_t:s0")
            #expect(label("/home/alice/.ssh/authorized_keys") == "unconfined_u:object_r:ssh_home_t:s0")
            #expect(label("/etc/sudoers.d/90-emts-alice") == "system_u:object_r:sudo_etc_t:s0")
            #expect(label("/srv") == "system_u:object_r:default_t:s0")
            #expect(label("/srv/nolabel") == nil)
            #expect(report.warnings.contains { $0.contains("/srv/nolabel") && $0.contains("left unlabeled") },
                    "\(report.warnings)")
            // /home, alice's home with the skeleton's 6 entries, the sudoers file, .ssh, authorized_keys,
            // ds-identify.cfg, /srv: 13 labeled; /srv/nolabel not.
            #expect(label("/etc/cloud/ds-identify.cfg") == "system_u:object_r:etc_t:s0")
            #expect(label("/home") == "system_u:object_r:home_root_t:s0")
            #expect(report.changes.filter { $0.path == "/" }.map(\.action) == [.labeled(paths: 13)],
                    "\(report.changes.filter { $0.path == "/" })")
        }
    }

    @Test func aPolicyThatCannotBeReadIsAWarning() throws {
        try withProvisionFixture { fixture, _ in
            try fixture.file("/etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=targeted\n")
            let report = try fixture.provisioner().apply(SystemProfile(hostname: "edge-02", user: UserAccount(name: "alice")))
            #expect(report.warnings.contains {
                $0.contains("SELinux (permissive)") && $0.contains("file_contexts is missing") && $0.contains("restorecon")
            }, "\(report.warnings)")
        }
        try withProvisionFixture { fixture, _ in
            try fixture.file("/etc/selinux/config", "SELINUX=disabled\n")
            let report = try fixture.provisioner().apply(SystemProfile(user: UserAccount(name: "alice")))
            #expect(!report.warnings.contains { $0.contains("SELinux") })
            #expect(!report.changes.contains { $0.path == "/" })
        }
    }
}

@Suite struct ProvisionPartsTests {
    @Test func redactsURLCredentials() {
        #expect(Redaction.url("http://bob:pw@proxy:3128/") == "http://***@proxy:3128/")
        #expect(Redaction.url("http://proxy:3128") == "http://proxy:3128")
        #expect(Redaction.url("bob:pw@proxy:3128") == "***@proxy:3128")
        #expect(Redaction.url("http://p:a@b@proxy:1/x?y=@z") == "http://***@proxy:1/x?y=@z")
    }

    @Test func findsTheInstallingNIC() throws {
        try withScratchDirectory { scratch in
            let paths = HostPaths(sysfs: scratch.path + "/sys", dev: scratch.path + "/dev", proc: scratch.path + "/proc")
            try writeText("""
                Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
                eth0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
                enp1s0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
                enp1s0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0

                """, to: paths.proc + "/net/route")
            try writeText("52:54:00:AA:BB:CC\n", to: paths.sysfs + "/class/net/enp1s0/address")
            try writeText("52:54:00:00:00:01\n", to: paths.sysfs + "/class/net/eth0/address")
            #expect(InstallingNIC.find(paths) == InstallingNIC(interface: "enp1s0", macAddress: "52:54:00:aa:bb:cc"))

            // IPv6 only.
            try writeText("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n",
                          to: paths.proc + "/net/route")
            try writeText("""
                00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003     eth0
                00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo

                """, to: paths.proc + "/net/ipv6_route")
            #expect(InstallingNIC.find(paths)?.interface == "eth0")

            try writeText("", to: paths.proc + "/net/ipv6_route")
            #expect(InstallingNIC.find(paths) == nil)
        }
    }

    @Test func editsKeyValueAndNetworkFiles() {
        var environment = KeyValueLines(text: "# comment\nexport http_proxy=\"a\"\nX=1\nhttp_proxy=b\n")
        #expect(environment.value(of: "http_proxy") == "a")
        environment.set("http_proxy", line: "http_proxy=c")
        environment.set("NEW", line: "NEW=1")
        #expect(environment.text == "# comment\nhttp_proxy=c\nX=1\nNEW=1\n")

        var network = NetworkdFile(text: "[Match]\nName=en*\nName=eth*\nDriver=virtio_net\n\n[Link]\nMTUBytes=9000\n")
        network.setMatch("MACAddress=52:54:00:00:00:01")
        network.set("DHCP", "yes", in: "Network")
        network.set("MTUBytes", "1500", in: "Link")
        #expect(network.text == """
            [Match]
            MACAddress=52:54:00:00:00:01
            Driver=virtio_net

            [Link]
            MTUBytes=1500

            [Network]
            DHCP=yes

            """)
    }

    @Test func subordinateRangesAvoidTheOnesTaken() {
        let limits = SubordinateRange.Limits(minimum: 100_000, maximum: 400_000, count: 65_536)
        #expect(SubordinateRange.firstFree(after: [], limits: limits) == 100_000)
        let taken = SubordinateRange.ranges("a:100000:65536\nbroken line\nb:200000:65536\nc:x:1\n")
        #expect(taken.map(\.name) == ["a", "b"])
        // 165536 + 65536 overlaps b (200000): the next start is after b.
        #expect(SubordinateRange.firstFree(after: taken, limits: limits) == 265_536)
        #expect(SubordinateRange.firstFree(after: taken, limits: SubordinateRange.Limits(minimum: 100_000, maximum: 300_000,
                                                                                          count: 65_536)) == nil)
        #expect(SubordinateRange.firstFree(after: taken, limits: SubordinateRange.Limits(minimum: 100_000, maximum: 400_000,
                                                                                          count: 0)) == nil)
        let definitions = LoginDefinitions(text: "SUB_UID_MIN 200000\nSUB_UID_COUNT 1000\nSUB_GID_MAX 5\n")
        #expect(definitions.subUID == SubordinateRange.Limits(minimum: 200_000, maximum: 600_100_000, count: 1000))
        #expect(definitions.subGID.maximum == 5)
    }

    @Test func readsLoginDefinitions() {
        let definitions = LoginDefinitions(text: "UID_MIN 500\n#GID_MIN 7\nGID_MIN\t600\nUMASK 027\n")
        #expect(definitions.uidMin == 500 && definitions.gidMin == 600 && definitions.homeMode == 0o750)
        #expect(LoginDefinitions.firstFree([1000, 1001, 1003], minimum: 1000, maximum: 60000) == 1002)
        #expect(LoginDefinitions.firstFree([5], minimum: 5, maximum: 5) == nil)
        #expect(Validation.mode("0o755") == 0o755 && Validation.mode("644") == 0o644 && Validation.mode("8") == nil)
    }
}
