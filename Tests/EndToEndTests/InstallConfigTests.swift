import BootTest
import Foundation
import HybridISO
import InstallMedium
import MicroOS
import StreamKit
import Synchronization
import Testing

/// install-os configures the installed system (issue 7): the ISO carries an installer.yaml with a user, an SSH
/// key, a proxy, a static address, NTP and the EMT-S storage layout, and the µOS a helper script for
/// `/etc/cloud/`; after the install the installed OS reports
/// what it finds on its serial console (Fixtures/os-image/emts-os-ready), with lvm2 and cryptsetup-bin in the
/// image so it can show its volume group and dm-verity hash partition.
@Suite struct InstallConfigBoots {
    /// The password behind `passwordHash`; it must appear nowhere on the ISO or the installed disk.
    static let plaintextPassword = "emts-plaintext-Secret-42"
    /// `openssl passwd -6 -salt emtsTestSalt0001 emts-plaintext-Secret-42`.
    static let passwordHash = "$6$emtsTestSalt0001$P0JHO69NKasEG6H3EYpDeqmtAYireeevxCgDxw/KNB8hBPpUE8sJQTSBlo7mtBHqnLj.ZUZ5aLnjHTeAaPt3H."
    static let sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO9dnT9Eg5Pizt10niOBHff13RNNUmm+jhHODTnaN1Jm qa@emts-test"
    /// QEMU's user network: the guest's NIC has this MAC; 10.0.2.2 is the gateway, 10.0.2.3 the DNS server.
    static let guestMAC = "52:54:00:12:34:56"

    static var configYAML: String {
        """
        # issue 7 end-to-end configuration
        hostname: emt-configured
        user:
          name: edge
          password_hash: "\(passwordHash)"
          ssh_authorized_keys:
            - "\(sshKey)"
          passwordless_sudo: true
        proxy:
          http: http://proxy.example.test:3128
          https: http://proxy.example.test:3128
          no_proxy: [localhost, 127.0.0.1, .example.test]
        network:
          mode: static
          mac: "\(guestMAC)"
          address: 10.0.2.50/24
          gateway: 10.0.2.2
          dns: [10.0.2.3]
        ntp: [ntp.example.test]
        storage:
          layout: emt
          lvm_size_gb: 2
          swap_gb: 1
          lvm_disks: [/dev/disk/by-id/virtio-EMTS-LVM-EXTRA]
        """
    }

    @Test("The installed OS has the configured hostname, user key, proxy, static address and storage layout")
    func configuredSystemBoots() async throws {
        let bed = try await TestBed.sharedAsync()
        let work = TestBed.logDirectory.appendingPathComponent("install-config")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let config = work.appendingPathComponent("installer.yaml")
        try Self.configYAML.write(to: config, atomically: true, encoding: .utf8)

        // User apps carried on the medium, for the installed system's persistent partition.
        let userApps = work.appendingPathComponent("user-apps")
        try FileManager.default.createDirectory(at: userApps.appendingPathComponent("app"), withIntermediateDirectories: true)
        try "#!/bin/sh\necho app\n".write(to: userApps.appendingPathComponent("app/run.sh"), atomically: false, encoding: .utf8)
        chmod(userApps.appendingPathComponent("app/run.sh").path, 0o755)

        let iso = work.appendingPathComponent("emt-s.iso")
        try await offloaded {
            let packages = try PackageInjectionBoots.fetchPackages(for: bed, names: Self.packageNames)
            let osImage = try OSImageFixture.locate(for: bed, packages: packages)
            var request = EditRequest.standard
            request.packages = PackageRequest(directory: packages, names: Self.packageNames)
            // A helper script embedded in the µOS, for the installed system's /etc/cloud/.
            request.files.append(EditRequest.File(destination: "/etc/emts/cloud-scripts/collect-logs.sh",
                                                  source: .inline(Array("#!/bin/sh\necho collecting\n".utf8)),
                                                  permissions: 0o644))
            var inputs = MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.gzip).path, request: request)
            try inputs.inject(try InstallerBundle(executable: InstallMediumFixture.installerExecutable))
            _ = try InstallMediumBuild.build(
                inputs, kernelArguments: try KernelArguments(extras: ["no_timer_check"]), installerConfig: config.path,
                osImage: osImage.image.path, userApps: userApps.path, epoch: 1_700_000_000, output: iso.path, tool: "test")
        }

        let target = work.appendingPathComponent("target.img")
        try makeSparseFile(target, bytes: 16 << 30)
        let disk = TargetDisk(image: target, bus: .nvme, serial: "EMTS-TARGET")
        // A second disk the configuration names to join the volume group (today's flow took every other disk).
        let extraImage = work.appendingPathComponent("lvm-extra.img")
        try makeSparseFile(extraImage, bytes: 2 << 30)
        let extra = TargetDisk(image: extraImage, bus: .virtio, serial: "EMTS-LVM-EXTRA")
        let vars = work.appendingPathComponent("OVMF_VARS.fd")
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let install = try await BootRunner().boot(
            MachineSpec(firmware: .uefi, source: .medium(image: iso, media: .usb, writable: true), disks: [disk, extra],
                        network: true, variableStore: vars),
            expecting: .installRun(["EMT-S is installed on /dev/", "reboot: Restarting system"],
                                   overall: .seconds(1200), silence: .seconds(180)),
            accelerator: accel.accelerator, log: work.appendingPathComponent("install.log"))
        print("install with configuration: \(install.summary)")
        #expect(install.passed, "\(install.summary)")
        guard install.passed else { return }
        let installLog = try consoleText(install.log)
        #expect(!installLog.contains(Self.passwordHash), "the install log shows the password hash")
        #expect(!installLog.contains("AAAAC3NzaC1lZDI1NTE5AAAAIO9dnT9Eg5Pizt10niOBHff13RNNUmm"), "the install log shows the key")

        let booted = try await BootRunner().boot(
            MachineSpec(firmware: .uefi, source: .disks, disks: [disk, extra], network: true, variableStore: vars),
            expecting: BootExpectation(markers: ["EMTS-OS-BOOTED hostname=emt-configured"],
                                       failures: BootExpectation.knownFailures + ["EMTS-OS-INITRD-ERROR"]),
            accelerator: accel.accelerator, log: work.appendingPathComponent("installed.log"))
        print("configured OS: \(booted.summary)")
        #expect(booted.passed, "\(booted.summary)")
        let facts = try consoleText(booted.log).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("EMTS-OS-") }
        for line in facts { print("  \(line)") }
        let keyFile = work.appendingPathComponent("authorized_keys.expected")
        try (Self.sshKey + "\n").write(to: keyFile, atomically: true, encoding: .utf8)
        let keySHA = try FileDigest.sha256(of: keyFile.path).sha256
        #expect(facts.contains("EMTS-OS-AUTHKEYS /home/edge/.ssh/authorized_keys edge:edge 600 \(keySHA)"))
        #expect(facts.contains("EMTS-OS-ENV http_proxy=http://proxy.example.test:3128"))
        #expect(facts.contains("EMTS-OS-ENV https_proxy=http://proxy.example.test:3128"))
        #expect(facts.contains { $0.hasPrefix("EMTS-OS-ADDRESS") && $0.contains("10.0.2.50") })
        // lvmvg: the target's LVM partition and the named virtio disk, two physical volumes.
        #expect(facts.contains { $0.range(of: "^EMTS-OS-VGS +lvmvg +2 ", options: .regularExpression) != nil })
        #expect(facts.contains { $0.hasPrefix("EMTS-OS-VERITY") && $0.contains("Hash type") })
        #expect(facts.contains { $0.range(of: "^EMTS-OS-ROOTHASH [0-9a-f]{64}$", options: .regularExpression) != nil })
        // The swap partition in fstab, activated by the installed system; the NoCloud seed; the helper script.
        #expect(facts.contains { $0.hasPrefix("EMTS-OS-SWAP /dev/") && $0.contains(" partition ") })
        #expect(facts.contains { $0.range(of: "^EMTS-OS-SEED instance-id: emts-[0-9a-f-]{36}$", options: .regularExpression) != nil })
        #expect(facts.contains("EMTS-OS-SEED local-hostname: emt-configured"))
        #expect(facts.contains("EMTS-OS-CLOUDFILE /etc/cloud/collect-logs.sh root:root 755"))
        // The medium's user apps on the persistent partition: run.sh, 0755 root, 19 bytes (debugfs ls -p:
        // /inode/mode/uid/gid/name/size/).
        #expect(facts.contains { $0.range(of: "^EMTS-OS-USERAPPS /[0-9]+/100755/0/0/run.sh/19/$", options: .regularExpression) != nil })
        // The test bed has shadow's /etc/subuid and /etc/subgid: edge gets a range in each.
        #expect(facts.contains("EMTS-OS-SUBID /etc/subuid: edge:100000:65536"))
        #expect(facts.contains("EMTS-OS-SUBID /etc/subgid: edge:100000:65536"))
        for name in ["rootfs_b", "hashmap_a", "hashmap_b", "roothash", "swap", "lvm"] {
            #expect(facts.contains { $0.hasPrefix("EMTS-OS-LSBLK") && $0.hasSuffix(" " + name) }, "no \(name) partition")
        }

        // No plaintext password anywhere: not on the ISO (its config partition included), not on the target.
        for image in [iso, target] {
            #expect(try !fileContains(image, Self.plaintextPassword), "\(image.lastPathComponent) holds the password")
        }
    }

    static let packageNames = ["efibootmgr", "gawk", "lvm2", "net-tools", "parted", "cryptsetup-bin"]
}

/// Whether `needle` (plain ASCII, no quotes) occurs anywhere in the file: GNU grep reads it as binary.
func fileContains(_ url: URL, _ needle: String) throws -> Bool {
    let count = try shell("grep -c -a -F -e '\(needle)' '\(url.path)' || true")
    return (Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0
}
