import Foundation
import Glibc
@testable import Installer
import Testing

/// The shell installer's `config-file` and the equivalent `installer.yaml` configure the same system: the two
/// files are each read as install-os reads them, mapped onto the provisioner's profile and applied to two
/// copies of the same installed root; the trees must be identical, file by file (content, mode, owner, links).
@Suite(.enabled(if: runningAsRoot, "the provisioner sets numeric owners: needs root"))
struct SystemSetupTests {
    static let nic = InstallingNIC(interface: "enp1s0", macAddress: "52:54:00:12:34:56")
    static let scripts = [HelperScript(name: "k3s-configure.sh", bytes: Array("#!/bin/sh\n".utf8), source: "test")]

    /// The installed tree for a configuration file, on a fresh fixture.
    static func installedTree(_ file: InstallerConfigFile) throws -> [String: String] {
        let config = InstallerConfig(files: [file], commandLine: nil)
        try config.checkComplete()
        let profile = SystemSetup.profile(config, installingNIC: nic, instanceID: "emts-test", helperScripts: scripts,
                                          swapUUID: "0b6e3a52-8f1c-4c35-9d1e-2f7c0a9b8e11")
        return try withProvisionFixture { fixture, _ in
            try fixture.file("/usr/lib/systemd/system/k3s.service", "[Install]\nWantedBy=multi-user.target\n")
            let report = try fixture.provisioner().apply(profile)
            #expect(!report.changes.isEmpty)
            return try fixture.snapshot()
        }
    }

    @Test(arguments: [
        (LegacyConfigFileTests.sample, LegacyConfigFileTests.equivalentYAML),
        (kubernetesLegacy, kubernetesYAML),
    ])
    func legacyConfigFileAndYAMLGiveTheSameInstalledSystem(legacyText: String, yamlText: String) throws {
        let legacy = try LegacyConfigFile(text: legacyText, path: "config-file")
        #expect(legacy.warnings.isEmpty, "\(legacy.warnings)")
        let yaml = try InstallerConfigFile(yaml: yamlText, path: "installer.yaml")
        let fromLegacy = try Self.installedTree(legacy.configFile)
        let fromYAML = try Self.installedTree(yaml)
        let differing = Set(fromLegacy.keys).union(fromYAML.keys).filter { fromLegacy[$0] != fromYAML[$0] }.sorted()
        #expect(differing.isEmpty, "paths that differ: \(differing)")
        // Not trivially equal: the configuration reached the files.
        #expect(fromLegacy["/etc/environment"]?.contains("http_proxy=http://proxy.example.com:3128") == true)
        #expect(fromLegacy["/home/edge/.ssh/authorized_keys"]?.contains(Samples.ed25519) == true)
        #expect(fromLegacy["/etc/fstab"]?.contains("swap") == true)
        #expect(fromLegacy["/var/lib/cloud/seed/nocloud/meta-data"] != nil)

        // And the same storage for the same disk.
        let storage = { (file: InstallerConfigFile) in
            StorageRequest(config: InstallerConfig(files: [file], commandLine: nil).storage, memoryBytes: 8 << 30,
                           singleDisk: true)
        }
        #expect(storage(legacy.configFile) == storage(yaml))
    }

    static let kubernetesLegacy = """
        http_proxy="http://proxy.example.com:3128"
        no_proxy="localhost,10.0.0.0/8"
        user_name="edge"
        ssh_key="\(Samples.ed25519)"
        host_type="kubernetes"
        dns_name_server="1.1.1.1"
        huge_page_config="1024"
        lvm_size_ingb="0"
        deploy_envmt="bm"
        services:
          enable: ["edge-agent.service"]
        runcmd:
          - echo kubernetes

        """

    static let kubernetesYAML = """
        proxy: {http: "http://proxy.example.com:3128", no_proxy: [localhost, 10.0.0.0/8]}
        user: {name: edge, ssh_authorized_keys: ["\(Samples.ed25519)"]}
        host_type: kubernetes
        network: {dns: [1.1.1.1]}
        hugepages: 1024
        storage: {layout: emt, lvm_size_gb: 0}
        cloud_init:
          services: {enable: [edge-agent.service]}
          runcmd: [echo kubernetes]

        """
}
