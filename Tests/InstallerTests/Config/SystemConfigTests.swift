import Foundation
@testable import Installer
import Testing

/// Test values: a real SHA-512 crypt hash (`openssl passwd -6 -salt saltsalt123 secret`) and real public keys.
enum Samples {
    static let hash = "$6$saltsalt123$.PCdeXon.6T0jksOVnR1TCCff2j2XNu98yk83wK9lQLfeOtFRmrn79q3JG8UeNmfEY41cF5O8gbRUyN29x2qf/"
    static let hashWithRounds = "$6$rounds=5000$saltsalt123$.PCdeXon.6T0jksOVnR1TCCff2j2XNu98yk83wK9lQLfeOtFRmrn79q3JG8UeNmfEY41cF5O8gbRUyN29x2qf/"
    static let ed25519Blob = "AAAAC3NzaC1lZDI1NTE5AAAAIGK2/1fo+3QJRf6hzXnuYCsP7W3dx8m/Lqfzl+6yfNbv"
    static let ed25519 = "ssh-ed25519 \(ed25519Blob) ops@example.com"
    static let ed25519Fingerprint = "SHA256:pSirKSL91qDVn39OeH7KnW6yXcsqKD2QDvOwAYZ4yfk"
    static let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHaDLc3zfp32LZiIGOPFQc+8SVZxDwtGlYL1l38H5UYMhALTNwdtfOy+O5sIwwOO2txD3bCS2GDaPRq+qyOdy3A="
}

/// The installed system's sections of `installer.yaml`: every key, every refusal placed on its line, merging.
@Suite struct SystemConfigTests {
    static let everything = """
        hostname: edge-node-01.example.com
        user:
          name: edge
          password_hash: "\(Samples.hash)"
          ssh_authorized_keys:
            - \(Samples.ed25519)
            - "\(Samples.ecdsa)"
          passwordless_sudo: true
        proxy:
          http: http://proxy.example.com:3128
          https: http://user:s3cret@proxy.example.com:3129
          no_proxy: localhost, 127.0.0.1,.example.com
        network:
          mode: static
          mac: "52:54:00:AB:cd:EF"
          address: 192.168.1.10/24
          gateway: 192.168.1.1
          dns: [192.168.1.1, 9.9.9.9]
          pin_to_install_nic: false
        ntp: [0.pool.ntp.org, 192.168.1.1]
        hugepages: 1024
        host_type: kubernetes
        cloud_init:
          services:
            enable: [docker, getty@tty2.service]
            disable: [unattended-upgrades]
          write_files:
            - path: /etc/motd
              permissions: "0600"
              content: "top secret motd\\n"
              owner: "edge:edge"
            - path: /opt/app/config.json
              content: "{}"
          runcmd: ["echo installed > /var/log/first-boot", "sysctl --system"]
        storage:
          layout: emt
          lvm_size_gb: 100
          swap_gb: auto
          reserved_mb: 4096

        """

    @Test func readsEverySection() throws {
        let settings = try InstallerConfigFile(yaml: Self.everything, path: "installer.yaml").settings
        #expect(settings.hostname == "edge-node-01.example.com")
        #expect(settings.user?.name == "edge")
        #expect(settings.user?.passwordHash?.cryptString == Samples.hash)
        #expect(settings.user?.sshAuthorizedKeys?.map(\.line) == [Samples.ed25519, Samples.ecdsa])
        #expect(settings.user?.sshAuthorizedKeys?.first?.fingerprint == Samples.ed25519Fingerprint)
        #expect(settings.user?.passwordlessSudo == true)
        #expect(settings.proxy == ProxySection(http: "http://proxy.example.com:3128",
                                               https: "http://user:s3cret@proxy.example.com:3129",
                                               noProxy: ["localhost", "127.0.0.1", ".example.com"]))
        #expect(settings.network == NetworkSection(mode: .static, mac: "52:54:00:ab:cd:ef", address: "192.168.1.10/24",
                                                   gateway: "192.168.1.1", dns: ["192.168.1.1", "9.9.9.9"],
                                                   pinToInstallNIC: false))
        #expect(settings.ntp == ["0.pool.ntp.org", "192.168.1.1"])
        #expect(settings.hugepages == 1024)
        #expect(settings.hostType == .kubernetes)
        #expect(settings.cloudInit?.services == CloudInitSection.ServicesSection(enable: ["docker", "getty@tty2.service"], disable: ["unattended-upgrades"]))
        #expect(settings.cloudInit?.writeFiles == [
            WriteFile(path: "/etc/motd", permissions: "0600", content: "top secret motd\n", owner: "edge:edge"),
            WriteFile(path: "/opt/app/config.json", content: "{}"),
        ])
        #expect(settings.cloudInit?.writeFiles?.first?.mode == 0o600)
        #expect(settings.cloudInit?.writeFiles?.last?.mode == 0o644)
        #expect(settings.cloudInit?.runcmd == ["echo installed > /var/log/first-boot", "sysctl --system"])
        #expect(settings.storage == StorageSection(layout: .emt, lvmSizeGB: 100, swap: .auto, reservedMB: 4096))
        #expect(settings.keysSet.isEmpty)
        #expect(settings.systemKeysSet.contains("cloud_init.services.disable"))
        #expect(settings.systemKeysSet.count == 25)

        let config = InstallerConfig(files: [try InstallerConfigFile(yaml: Self.everything, path: "a.yaml")], commandLine: nil)
        #expect(config.user?.name == "edge" && config.user?.passwordlessSudo == true)
        #expect(config.network.mode == .static && config.network.addressWithoutPrefix == "192.168.1.10")
        #expect(config.network.prefixLength == 24)
        #expect(config.ntpServers.count == 2 && config.hugepages == 1024 && config.hostType == .kubernetes)
        #expect(config.cloudInit.servicesEnable == ["docker", "getty@tty2.service"])
        #expect(config.storage == StorageConfig(layout: .emt, lvmSizeGB: 100, swap: .auto, reservedMB: 4096))
        #expect(config.proxy?.noProxyValue == "localhost,127.0.0.1,.example.com")
        #expect(config.origin(ofKey: "network.dns") == "a.yaml")
        #expect(config.origin(ofKey: "storage") == "a.yaml")
        #expect(throws: Never.self) { try config.checkComplete() }
    }

    @Test func defaultsOfTheInstalledSystem() throws {
        let config = InstallerConfig()
        #expect(config.hostname == nil && config.user == nil && config.proxy == nil)
        #expect(config.network == NetworkConfig(mode: .dhcp, pinToInstallNIC: true))
        #expect(config.ntpServers.isEmpty && config.hugepages == nil && config.hostType == nil)
        #expect(config.cloudInit.isEmpty)
        #expect(config.storage == StorageConfig(layout: StorageConfig.Layout.none, lvmSizeGB: nil, swap: .auto, reservedMB: 5120))
        #expect(config.origin(ofKey: "network.mode") == "default")
        // A section given empty sets nothing.
        let empty = try InstallerConfigFile(yaml: "user:\nnetwork: {}\nstorage:\n", path: "e")
        #expect(InstallerConfig(files: [empty], commandLine: nil) == InstallerConfig(files: [], commandLine: nil))
    }

    @Test func laterFileOverridesSectionsKeyByKey() throws {
        let embedded = try InstallerConfigFile(yaml: """
            hostname: factory
            user: {name: edge, password_hash: "\(Samples.hash)", passwordless_sudo: true}
            network: {mode: static, address: 10.0.0.5/8, gateway: 10.0.0.1, dns: [10.0.0.1], interface: enp1s0}
            cloud_init:
              services: {enable: [docker], disable: [snapd]}
              runcmd: ["echo a"]
            storage: {layout: emt, reserved_mb: 1024}
            ntp: [ntp.factory]
            """, path: "/etc/emts/installer.yaml")
        let stick = try InstallerConfigFile(yaml: """
            user:
              ssh_authorized_keys: ["\(Samples.ed25519)"]
            network:
              dns: [9.9.9.9]
            cloud_init:
              services:
                disable: [cups]
            storage:
              layout: vm
              swap_gb: 2.5
            """, path: "stick")
        let config = InstallerConfig(files: [embedded, stick], commandLine: nil)
        #expect(config.hostname == "factory")
        let expectedUser = UserConfig(name: "edge", passwordHash: try PasswordHash(Samples.hash),
                                      sshAuthorizedKeys: [try SSHPublicKey(Samples.ed25519)], passwordlessSudo: true)
        #expect(config.user == expectedUser)
        #expect(config.network == NetworkConfig(mode: .static, interface: "enp1s0", address: "10.0.0.5/8",
                                                gateway: "10.0.0.1", dns: ["9.9.9.9"]))
        #expect(config.cloudInit == CloudInitConfig(servicesEnable: ["docker"], servicesDisable: ["cups"], runcmd: ["echo a"]))
        #expect(config.storage == StorageConfig(layout: .vm, lvmSizeGB: nil, swap: .gb(2.5), reservedMB: 1024))
        #expect(config.ntpServers == ["ntp.factory"])
        #expect(config.origin(ofKey: "network.dns") == "stick")
        #expect(config.origin(ofKey: "network.address") == "/etc/emts/installer.yaml")
        #expect(config.origin(ofKey: "user") == "/etc/emts/installer.yaml, stick")
    }

    @Test(arguments: [
        // (yaml, key, line, message fragment)
        ("hostname: -bad-\n", "hostname", 1, "is not a host name"),
        ("hostname: \(String(repeating: "a", count: 64))\n", "hostname", 1, "1 to 63 characters"),
        ("\nuser:\n  name: Edge\n", "user.name", 3, "is not a user name"),
        ("user:\n  name: root\n", "user.name", 2, "system account"),
        ("user:\n  name: \(String(repeating: "a", count: 33))\n", "user.name", 2, "1 to 32 characters"),
        ("user:\n  name: edge\n  password_hash: \"$1$abc$def\"\n", "user.password_hash", 3, "emts-iso hash-password"),
        ("user:\n  password_hash: \"$6$rounds=10$saltsalt123$x\"\n", "user.password_hash", 2, "rounds= must be"),
        ("user:\n  ssh_authorized_keys:\n    - \"\(Samples.ed25519)\"\n    - ssh-dss AAAAB3 x\n", "user.ssh_authorized_keys[1]", 4, "key type \"ssh-dss\""),
        ("user:\n  ssh_authorized_keys: [\"ssh-rsa not-base64!\"]\n", "user.ssh_authorized_keys[0]", 2, "not base64"),
        ("user:\n  ssh_authorized_keys: [\"ssh-rsa \(Samples.ed25519Blob)\"]\n", "user.ssh_authorized_keys[0]", 2, "is not a ssh-rsa key"),
        ("user:\n  ssh_authorized_keys: [\"\(Samples.ed25519Blob)\"]\n", "user.ssh_authorized_keys[0]", 2, "not an OpenSSH public key line"),
        ("proxy:\n  http: proxy.example.com:3128\n", "proxy.http", 2, "is not a proxy URL"),
        ("proxy:\n  https: ftp://proxy\n", "proxy.https", 2, "is not a proxy URL"),
        ("proxy:\n  no_proxy: [localhost, \"a b\"]\n", "proxy.no_proxy[1]", 2, "is not a no_proxy entry"),
        ("network:\n  mode: bridge\n", "network.mode", 2, "is not one of dhcp | static"),
        ("network:\n  mac: 52-54-00-12-34-56\n", "network.mac", 2, "aa:bb:cc:dd:ee:ff"),
        ("network:\n  interface: a/b\n", "network.interface", 2, "is not an interface name"),
        ("network:\n  mode: static\n  address: 192.168.1.10\n", "network.address", 3, "needs its prefix length"),
        ("network:\n  mode: static\n  address: 192.168.1.300/24\n", "network.address", 3, "is not an IPv4 or IPv6 address"),
        ("network:\n  mode: static\n  address: 192.168.1.10/33\n", "network.address", 3, "from 1 to 32"),
        ("network:\n  address: fd00::1/64\n  gateway: 10.0.0.1\n", "network.gateway", 3, "IP version"),
        ("network:\n  mode: dhcp\n  address: 10.0.0.2/8\n", "network.address", 3, "needs mode: static"),
        ("network:\n  dns: [1.1.1.1, dns.example]\n", "network.dns[1]", 2, "is not an IPv4 or IPv6 address"),
        ("ntp: [pool.ntp.org, \"bad name\"]\n", "ntp[1]", 1, "is not an NTP server"),
        ("hugepages: 2000000\n", "hugepages", 1, "from 0 to 1000000"),
        ("host_type: vm\n", "host_type", 1, "is not one of kubernetes | container"),
        ("cloud_init:\n  services:\n    enable: [\"docker; rm -rf /\"]\n", "cloud_init.services.enable[0]", 3, "systemd unit name"),
        ("cloud_init:\n  write_files:\n    - path: etc/motd\n", "cloud_init.write_files[0].path", 3, "absolute file path"),
        ("cloud_init:\n  write_files:\n    - path: /etc/../root/x\n", "cloud_init.write_files[0].path", 3, "must not contain"),
        ("cloud_init:\n  write_files:\n    - path: /etc/x\n      permissions: \"0999\"\n", "cloud_init.write_files[0].permissions", 4, "octal file mode"),
        ("cloud_init:\n  write_files:\n    - path: /etc/x\n      owner: \"a:b:c\"\n", "cloud_init.write_files[0].owner", 4, "is not an owner"),
        ("cloud_init:\n  write_files:\n    - content: x\n", "cloud_init.write_files[0]", 3, "needs the key \"path\""),
        ("cloud_init:\n  runcmd: [\"  \"]\n", "cloud_init.runcmd[0]", 2, "must not be empty"),
        ("storage:\n  layout: raid\n", "storage.layout", 2, "is not one of none | emt | vm"),
        ("storage:\n  lvm_size_gb: -1\n", "storage.lvm_size_gb", 2, "from 0 to 1000000"),
        ("storage:\n  swap_gb: lots\n", "storage.swap_gb", 2, "is not auto or a number"),
        ("storage:\n  reserved_mb: -5\n", "storage.reserved_mb", 2, "from 0 to 1000000"),
    ])
    func badValueNamesFileLineAndKey(yaml: String, key: String, line: Int, fragment: String) {
        let error = #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: yaml, path: "stick.yaml") }
        guard case .invalidValue(let file, let errorKey, let errorLine, let message) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(file == "stick.yaml")
        #expect(errorKey == key)
        #expect(errorLine == line)
        #expect(message.contains(fragment), "\(message)")
        #expect(error?.description.hasPrefix("stick.yaml:\(line): \(key): ") == true)
    }

    @Test func plainPasswordIsRefusedPointingAtHashPassword() {
        let error = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "user:\n  name: edge\n  password: hunter2\n", path: "stick.yaml")
        }
        #expect(error == .invalidValue(file: "stick.yaml", key: "user.password", line: 3,
                                       message: UserSection.plainPasswordMessage))
        #expect(error?.description.contains("emts-iso hash-password") == true)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func unknownAndDuplicateKeysInSections() {
        let unknown = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "network:\n  mode: dhcp\n  gatway: 10.0.0.1\n", path: "c.yaml")
        }
        guard case .unknownKey("c.yaml", "network.gatway", 3, let known, "gateway") = unknown else {
            Issue.record("unexpected \(String(describing: unknown))")
            return
        }
        #expect(known == ["address", "dns", "gateway", "interface", "mac", "mode", "pin_to_install_nic"])

        let nested = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "cloud_init:\n  services:\n    enabled: [docker]\n", path: "c.yaml")
        }
        guard case .unknownKey(_, "cloud_init.services.enabled", 3, _, "enable") = nested else {
            Issue.record("unexpected \(String(describing: nested))")
            return
        }

        let top = #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: "hostnme: a\n", path: "c.yaml") }
        guard case .unknownKey(_, "hostnme", 1, let topKnown, "hostname") = top else {
            Issue.record("unexpected \(String(describing: top))")
            return
        }
        #expect(topKnown.contains("target") && topKnown.contains("cloud_init"))

        let duplicate = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "user:\n  name: a\n  name: b\n", path: "c.yaml")
        }
        guard case .duplicateKey("c.yaml", "name", _) = duplicate else {
            Issue.record("unexpected \(String(describing: duplicate))")
            return
        }
    }

    @Test(arguments: [
        ("hugepages: many\n", "hugepages", 1, "a whole number of 2 MiB huge pages", "\"many\""),
        ("ntp: pool.ntp.org\n", "ntp", 1, "a list of NTP server names or addresses", "\"pool.ntp.org\""),
        ("user: edge\n", "user", 1, "a mapping with name, password_hash, ssh_authorized_keys, passwordless_sudo", "\"edge\""),
        ("user:\n  passwordless_sudo: maybe\n", "user.passwordless_sudo", 2, "true or false", "\"maybe\""),
        ("network:\n  dns: 1.1.1.1\n", "network.dns", 2, "a list", "\"1.1.1.1\""),
    ])
    func wrongTypeNamesKeyLineAndTypes(yaml: String, key: String, line: Int, expected: String, found: String) {
        let error = #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: yaml, path: "c.yaml") }
        #expect(error == .wrongType(file: "c.yaml", key: key, line: line, expected: expected, found: found))
    }

    @Test func numbersAndListForms() throws {
        let settings = try InstallerConfigFile(yaml: """
            proxy: {no_proxy: [localhost, .corp]}
            storage: {swap_gb: 16, lvm_size_gb: 0}
            network: {address: "fd00::10/64", gateway: "fd00::1", mode: static}
            cloud_init:
              write_files: [{path: /etc/x, permissions: 0755}]
            """, path: "c").settings
        #expect(settings.proxy?.noProxy == ["localhost", ".corp"])
        #expect(settings.storage?.swap == .gb(16) && settings.storage?.lvmSizeGB == 0)
        #expect(settings.network?.address == "fd00::10/64")
        #expect(settings.cloudInit?.writeFiles?.first?.mode == 0o755, "an unquoted 0755 keeps its octal digits")
        #expect(StorageConfig(layout: .emt, lvmSizeGB: 0, swap: .gb(16)).description == "emt: swap 16 GB, reserved 5120 MB, no LVM")
    }

    @Test func disksThatJoinTheVolumeGroupNeedOne() throws {
        let joined = try InstallerConfigFile(yaml: "storage: {layout: emt, lvm_disks: [/dev/disk/by-id/nvme-B, sdb]}\n",
                                             path: "stick")
        #expect(joined.settings.storage?.lvmDisks == ["/dev/disk/by-id/nvme-B", "sdb"])
        let config = InstallerConfig(files: [joined], commandLine: nil)
        try config.checkComplete()
        #expect(config.storage.description == "emt: swap auto, reserved 5120 MB, LVM on the rest of the disk with "
            + "/dev/disk/by-id/nvme-B, sdb")
        for yaml in ["storage: {lvm_disks: [sdb]}", "storage: {layout: vm, lvm_size_gb: 0, lvm_disks: [sdb]}",
                     "storage: {layout: vm, lvm_disks: [sdb, sdb]}"] {
            let file = try InstallerConfigFile(yaml: yaml + "\n", path: "stick")
            let error = #expect(throws: InstallerConfigError.self) {
                try InstallerConfig(files: [file], commandLine: nil).checkComplete()
            }
            #expect(error?.description.hasPrefix("stick: storage.lvm_disks: ") == true, "\(yaml): \(String(describing: error))")
        }
        for bad in ["auto", "/tmp/disk", "two words"] {
            #expect(throws: InstallerConfigError.self, "\(bad)") {
                try InstallerConfigFile(yaml: "storage: {lvm_disks: [\"\(bad)\"]}\n", path: "stick")
            }
        }
    }

    @Test func crossKeyChecksNameTheFile() throws {
        let keysOnly = try InstallerConfigFile(yaml: "user:\n  ssh_authorized_keys: [\"\(Samples.ed25519)\"]\n", path: "stick")
        #expect(throws: InstallerConfigError.invalidValue(file: "stick", key: "user.name", line: nil,
                                                          message: "user.ssh_authorized_keys is set but no configuration file gives user.name")) {
            try InstallerConfig(files: [keysOnly], commandLine: nil).checkComplete()
        }
        let staticOnly = try InstallerConfigFile(yaml: "network:\n  mode: static\n", path: "embedded")
        let error = #expect(throws: InstallerConfigError.self) {
            try InstallerConfig(files: [staticOnly], commandLine: nil).checkComplete()
        }
        #expect(error?.description.hasPrefix("embedded: network.address: network.mode is static") == true)
        // An address on the stick completes the embedded static mode.
        let address = try InstallerConfigFile(yaml: "network:\n  address: 10.1.2.3/16\n", path: "stick")
        #expect(throws: Never.self) { try InstallerConfig(files: [staticOnly, address], commandLine: nil).checkComplete() }
        // The stick switching back to DHCP leaves the embedded address without a use.
        let dhcp = try InstallerConfigFile(yaml: "network:\n  mode: dhcp\n", path: "stick2")
        let conflict = #expect(throws: InstallerConfigError.self) {
            try InstallerConfig(files: [staticOnly, address, dhcp], commandLine: nil).checkComplete()
        }
        #expect(conflict == .invalidValue(file: "stick", key: "network.address", line: nil,
                                          message: "needs network.mode: static (the configuration's mode is dhcp)"))
    }

    @Test func secretsNeverShowInDescriptionsOrJSON() throws {
        let file = try InstallerConfigFile(yaml: Self.everything, path: "installer.yaml")
        let config = InstallerConfig(files: [file], commandLine: nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(config), as: UTF8.self)
        let texts = [
            json, "\(config)", String(reflecting: config), "\(file.settings)", String(reflecting: file.settings),
            "\(file)", config.user?.description ?? "", config.proxy?.description ?? "", config.cloudInit.description,
            "\(file.settings.user!)", "\(file.settings.proxy!)", "\(config.user!.sshAuthorizedKeys)",
            config.systemSummary.joined(separator: "\n"),
        ]
        let secrets = ["saltsalt123", ".PCdeXon", Samples.ed25519Blob, "AAAAE2VjZHNh", "s3cret", "top secret motd",
                       "ops@example.com"]
        for text in texts {
            for secret in secrets {
                #expect(!text.contains(secret), "\"\(secret)\" shows in \(text.prefix(200))...")
            }
        }
        #expect(json.contains("\"password_hash\":\"(set)\""))
        #expect(json.contains("\"ssh_authorized_keys\":2"))
        #expect(json.contains("\"https\":\"http://***@proxy.example.com:3129\""))
        #expect(json.contains("\"content\":\"(16 bytes)\""))
        #expect(json.contains("\"swap_gb\":\"auto\"") && json.contains("\"host_type\":\"kubernetes\""))
        #expect(config.user?.description == "edge (password (set), 2 SSH keys, passwordless sudo)")
        #expect(config.user?.sshAuthorizedKeys.first?.description == "ssh-ed25519 \(Samples.ed25519Fingerprint)")
        #expect(config.systemSummary.first == "hostname: edge-node-01.example.com (installer.yaml)")
        #expect(config.systemSummary.contains("  key ssh-ed25519 \(Samples.ed25519Fingerprint)"))
        #expect(config.systemSummary.contains("storage: emt: swap auto, reserved 4096 MB, LVM 100 GB (installer.yaml)"))
        // The values themselves are still there for the provisioner.
        #expect(config.user?.passwordHash?.cryptString == Samples.hash)
        #expect(config.proxy?.https == "http://user:s3cret@proxy.example.com:3129")
    }

    @Test func validatorsAtTheEdges() throws {
        #expect(ConfigValidation.passwordHash(Samples.hashWithRounds) == nil)
        #expect(ConfigValidation.passwordHash(Samples.hash + "x") != nil)
        #expect(ConfigValidation.hostname(String(repeating: "a.", count: 126) + "a") == nil, "253 characters")
        #expect(ConfigValidation.hostname(String(repeating: "a.", count: 127) + "a") != nil)
        #expect(ConfigValidation.userName("svc_user-1$") == nil)
        #expect(ConfigValidation.userName("1user") != nil)
        #expect(try ConfigValidation.prefixLength(ofMask: "255.255.255.0").get() == 24)
        #expect(try ConfigValidation.prefixLength(ofMask: "255.255.255.255").get() == 32)
        #expect(try ConfigValidation.prefixLength(ofMask: "255.128.0.0").get() == 9)
        #expect(try ConfigValidation.prefixLength(ofMask: "16").get() == 16)
        #expect(throws: MessageError.self) { try ConfigValidation.prefixLength(ofMask: "255.0.255.0").get() }
        #expect(throws: MessageError.self) { try ConfigValidation.prefixLength(ofMask: "0.0.0.0").get() }
        #expect(ConfigValidation.redactedURL("http://u:p@h:1/x") == "http://***@h:1/x")
        #expect(ConfigValidation.redactedURL("http://h:1") == "http://h:1")
        #expect(throws: SSHPublicKeyError.self) { try SSHPublicKey(Samples.ed25519 + "\nssh-rsa AAAA") }
        #expect(try SSHPublicKey("  \(Samples.ed25519)  ").line == Samples.ed25519)
    }
}
