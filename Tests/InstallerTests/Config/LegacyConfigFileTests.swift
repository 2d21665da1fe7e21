import Foundation
@testable import Installer
import Testing

/// The shell installer's `config-file`, with every key design.md §8 lists.
@Suite struct LegacyConfigFileTests {
    static let sample = """
        # EMT-S installer configuration (shell installer format)
        http_proxy="http://proxy.example.com:3128"
        https_proxy="http://proxy.example.com:3129"
        no_proxy="localhost,127.0.0.1,.example.com"
        HTTP_PROXY="http://proxy.example.com:3128"
        HTTPS_PROXY="http://proxy.example.com:3129"
        NO_PROXY="localhost,127.0.0.1,.example.com"
        ssh_key="\(Samples.ed25519)"
        user_name="edge"
        host_type="container"

        static_ip="192.168.1.10"
        subnet_mask="255.255.255.0"
        default_gate_way="192.168.1.1"
        dns_name_server="192.168.1.1, 9.9.9.9"
        lvm_size_ingb="50"
        huge_page_config="512"
        USER_CUSTOM_NTP_SERVERS="0.pool.ntp.org,1.pool.ntp.org"
        deploy_envmt="ven"
        services:
          enable: [docker]
          disable:
            - unattended-upgrades
        write_files:
          - path: /etc/motd
            permissions: '0644'
            content: |
              hello
        runcmd:
          - echo done

        """

    static let equivalentYAML = """
        proxy:
          http: http://proxy.example.com:3128
          https: http://proxy.example.com:3129
          no_proxy: localhost,127.0.0.1,.example.com
        user:
          name: edge
          ssh_authorized_keys: ["\(Samples.ed25519)"]
        host_type: container
        network:
          mode: static
          address: 192.168.1.10/24
          gateway: 192.168.1.1
          dns: [192.168.1.1, 9.9.9.9]
        storage:
          layout: vm
          lvm_size_gb: 50
        hugepages: 512
        ntp: [0.pool.ntp.org, 1.pool.ntp.org]
        cloud_init:
          services:
            enable: [docker]
            disable: [unattended-upgrades]
          write_files:
            - path: /etc/motd
              permissions: "0644"
              content: "hello\\n"
          runcmd: [echo done]

        """

    @Test func sampleGivesTheSameSettingsAsTheEquivalentYAML() throws {
        let legacy = try LegacyConfigFile(text: Self.sample, path: "config-file")
        let yaml = try InstallerConfigFile(yaml: Self.equivalentYAML, path: "installer.yaml")
        #expect(legacy.settings == yaml.settings)
        #expect(legacy.warnings.isEmpty, "\(legacy.warnings)")
        #expect(legacy.settings.network?.address == "192.168.1.10/24")
        #expect(legacy.settings.storage?.layout == .vm)
        #expect(legacy.settings.cloudInit?.writeFiles?.first?.content == "hello\n")
        let file = legacy.configFile
        #expect(file.path == "config-file" && file.settings == yaml.settings && file.warnings.isEmpty)
        // The same resolved configuration, as a stick file over the embedded one.
        #expect(InstallerConfig(files: [file], commandLine: nil).storage
                == InstallerConfig(files: [yaml], commandLine: nil).storage)
    }

    @Test func emptyValuesOfTheTemplateSetNothing() throws {
        let template = """
            http_proxy=""
            ssh_key=""
            user_name=""
            static_ip=""
            subnet_mask=""
            deploy_envmt=""
            USER_CUSTOM_NTP_SERVERS=""
            """
        let legacy = try LegacyConfigFile(text: template, path: "config-file")
        #expect(legacy.settings == InstallerSettings())
        #expect(legacy.warnings.isEmpty)
    }

    @Test func quotingFormsAndComments() throws {
        let text = """
            export user_name=edge   # trailing comment
            host_type='kubernetes'
            deploy_envmt="bare-metal"
            huge_page_config="0" # none
            no_proxy="a\\"b"\r
            """
        let error = #expect(throws: InstallerConfigError.self) { try LegacyConfigFile(text: text, path: "cf") }
        #expect(error == .invalidValue(file: "cf", key: "no_proxy", line: 5,
                                       message: "\"a\"b\" is not a no_proxy entry (a host, .domain, address or network, no spaces)"))
        let fixed = try LegacyConfigFile(text: text.replacingOccurrences(of: "a\\\"b", with: ".corp"), path: "cf")
        #expect(fixed.settings.user?.name == "edge")
        #expect(fixed.settings.hostType == .kubernetes)
        #expect(fixed.settings.storage?.layout == .emt, "anything but ven is real hardware")
        #expect(fixed.settings.hugepages == 0)
        #expect(fixed.settings.proxy?.noProxy == [".corp"])
    }

    @Test func unknownKeysAreWarningsWithTheirLine() throws {
        let text = """
            # comment
            user_name="edge"
            os_password_file="/mnt/p6/password"
            user_name="ops"
            services:
              enable: [docker]
              restart: [sshd]
            bootcmd: [echo hi]
            """
        let legacy = try LegacyConfigFile(text: text, path: "EMTS-CONFIG:/config-file (/dev/sdb3)")
        #expect(legacy.settings.user?.name == "ops", "the later line counts, as in the shell")
        #expect(legacy.settings.cloudInit?.services?.enable == ["docker"])
        #expect(legacy.warnings.map(\.key) == ["user_name", "os_password_file", "services.restart", "bootcmd"])
        #expect(legacy.warnings.map(\.line) == [4, 3, 7, 8])
        #expect(legacy.warnings[1].description
                == "EMTS-CONFIG:/config-file (/dev/sdb3):3: unknown key \"os_password_file\" ignored")
        #expect(legacy.configFile.warnings.count == 4)
    }

    @Test(arguments: [
        ("user_name=\"edge\"\n\nthis is not a setting\n", 3),
        ("user_name=\"edge\nhost_type=container\n", 1),
        ("user_name=edge host_type=container\n", 1),
        ("  services:\n  enable: [docker]\n", 1),
        ("# c\n1abc=\"x\"\n", 2),
        ("user_name = \"edge\"\n", 1),
    ])
    func brokenLineIsAnErrorWithItsNumber(text: String, line: Int) {
        let error = #expect(throws: InstallerConfigError.self) { try LegacyConfigFile(text: text, path: "config-file") }
        guard case .malformedLine("config-file", line, let message) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(message.contains("expected KEY=\"value\""))
        #expect(error?.description.hasPrefix("config-file:\(line): ") == true)
    }

    @Test(arguments: [
        ("static_ip=\"192.168.1.300\"\nsubnet_mask=\"255.255.255.0\"\n", "static_ip", 1, "is not an IPv4 or IPv6 address"),
        ("static_ip=\"192.168.1.3\"\nsubnet_mask=\"255.0.255.0\"\n", "subnet_mask", 2, "not a contiguous netmask"),
        ("static_ip=\"192.168.1.3\"\n", "static_ip", 1, "needs subnet_mask"),
        ("http_proxy=\"proxy:3128\"\n", "http_proxy", 1, "is not a proxy URL"),
        ("user_name=\"root\"\n", "user_name", 1, "system account"),
        ("ssh_key=\"ssh-ed25519 AAAA\"\n", "ssh_key", 1, "ssh-ed25519"),
        ("host_type=\"k8s\"\n", "host_type", 1, "kubernetes | container"),
        ("lvm_size_ingb=\"lots\"\n", "lvm_size_ingb", 1, "number of GB"),
        ("huge_page_config=\"-1\"\n", "huge_page_config", 1, "2 MiB pages"),
        ("USER_CUSTOM_NTP_SERVERS=\"ntp.a,bad server\"\n", "USER_CUSTOM_NTP_SERVERS", 1, "NTP server"),
        ("dns_name_server=\"1.1.1.1,one\"\n", "dns_name_server", 1, "is not an IPv4 or IPv6 address"),
        ("user_name=\"a\"\nservices:\n  enable: [\"bad unit!\"]\n", "services.enable[0]", 3, "systemd unit name"),
        ("services:\n  enable: [docker]\nwrite_files:\n  - path: relative\n", "write_files[0].path", 4, "absolute file path"),
    ])
    func badValueNamesKeyAndLine(text: String, key: String, line: Int, fragment: String) {
        let error = #expect(throws: InstallerConfigError.self) { try LegacyConfigFile(text: text, path: "config-file") }
        guard case .invalidValue("config-file", key, line, let message) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(message.contains(fragment), "\(message)")
    }

    @Test func gatewayWithoutAddressIsWarnedAndDNSKept() throws {
        let legacy = try LegacyConfigFile(text: "default_gate_way=\"10.0.0.1\"\ndns_name_server=\"10.0.0.2\"\n", path: "cf")
        #expect(legacy.settings.network == NetworkSection(dns: ["10.0.0.2"]))
        #expect(legacy.warnings.map(\.description) == ["cf:1: default_gate_way without static_ip ignored"])
    }

    @Test func yamlSyntaxErrorInTheTailKeepsTheFileLine() {
        let error = #expect(throws: InstallerConfigError.self) {
            try LegacyConfigFile(text: "user_name=\"a\"\nservices:\n  enable: [docker\n", path: "cf")
        }
        guard case .syntax("cf", let line?, _) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(line >= 3)
    }

    @Test func configPartitionFallsBackToTheLegacyFile() throws {
        try withScratchDirectory { directory in
            let root = directory.path
            let mounter = DirectoryMounter(["/dev/sdb3": root])
            let partition = ConfigPartition(device: "/dev/sdb3", mounter: mounter)
            #expect(try partition.readConfig() == nil)

            try writeText("user_name=\"edge\"\nlegacy_only=\"1\"\n", to: root + "/config-file")
            let legacy = try #require(try partition.readConfig())
            #expect(legacy.path == "EMTS-CONFIG:/config-file (/dev/sdb3)")
            #expect(legacy.settings.user?.name == "edge")
            #expect(legacy.warnings == ["EMTS-CONFIG:/config-file (/dev/sdb3):2: unknown key \"legacy_only\" ignored"])

            try writeText("hostname: stick\n", to: root + "/installer.yaml")
            let yaml = try #require(try partition.readConfig())
            #expect(yaml.path == partition.configDisplayName)
            #expect(yaml.settings.hostname == "stick" && yaml.settings.user == nil)
            #expect(yaml.warnings == ["EMTS-CONFIG:/config-file (/dev/sdb3): not read, installer.yaml is used"])
        }
    }
}
