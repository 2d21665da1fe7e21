import BootTest
import Foundation
import MicroOS
import Testing

/// Injects real Debian packages (efibootmgr, gawk, lvm2, net-tools, parted and what the test bed lacks of their
/// dependency closure, downloaded once by `Fixtures/fetch-packages.sh`; it is not in `testbed/`, whose every file is part of the test bed's
/// cache key) into the test bed, boots it under OVMF and
/// runs each tool.
@Suite struct PackageInjectionBoots {
    /// Each tool with the command the check unit runs (its exit status is reported).
    static let commands: [(name: String, command: String)] = [
        ("parted", "parted --version"),
        ("lvm", "lvm version"),
        ("efibootmgr", "efibootmgr"),
        ("gawk", "gawk --version"),
        ("netstat", "netstat -i"),
    ]

    /// A unit that runs every command and prints `EMTS-PKG <name> rc=<status>` on the serial console.
    static var checkUnit: String {
        let runs = commands.map { tool in
            "ExecStart=/bin/sh -c '\(tool.command) >/dev/ttyS0 2>&1; echo \"EMTS-PKG \(tool.name) rc=$?\" > /dev/ttyS0'"
        }
        return """
            [Unit]
            Description=emts-iso test: run the injected tools
            After=multi-user.target

            [Service]
            Type=oneshot
            ExecStartPre=-/sbin/modprobe dm-mod
            ExecStartPre=-/bin/sh -c 'modprobe efivarfs; mountpoint -q /sys/firmware/efi/efivars || mount -t efivarfs efivarfs /sys/firmware/efi/efivars'
            \(runs.joined(separator: "\n"))

            [Install]
            WantedBy=multi-user.target
            """
    }

    /// Runs `Fixtures/fetch-packages.sh` for the test bed; returns the package directory.
    /// - Parameter names: the packages to fetch with their closure (default: the five tools).
    static func fetchPackages(for bed: TestBed, names: [String] = []) throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fetch-packages.sh")
        do {
            return try runScript(script, arguments: [bed.directory.path] + names)
        } catch {
            throw TestBedError.build("\(error); it needs Debian's mirror")
        }
    }

    @Test("The five tools, injected with their dependencies, run on the booted µOS under OVMF")
    func injectedToolsRun() async throws {
        let bed = try await TestBed.sharedAsync()
        let started = ContinuousClock.now
        let packages = try await offloaded { try Self.fetchPackages(for: bed) }
        print("packages: \(packages) ready after \(ContinuousClock.now - started)")
        let work = TestBed.logDirectory.appendingPathComponent("packages")
        try? FileManager.default.removeItem(at: work)
        var request = EditRequest.standard
        request.files.append(EditRequest.File(destination: "/usr/lib/systemd/system/emts-pkg-check.service",
                                              source: .inline(Array(Self.checkUnit.utf8))))
        request.enableUnits.append("emts-pkg-check.service")
        request.packages = PackageRequest(directory: packages)
        let inputs = MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.gzip).path, request: request)
        let manifest = try await offloaded {
            try MicroOSBuild.writeInitramfsPair(inputs, plan: try MicroOSBuild.plan(inputs), into: work.path, tool: "test")
        }
        let injected = Set(manifest.plan.packages.packages.map(\.name))
        #expect(injected.isSuperset(of: PackageRequest.defaultNames))

        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let spec = MachineSpec(firmware: .uefi, source: .kernel(kernel: work.appendingPathComponent("vmlinuz"),
                                                                initrd: work.appendingPathComponent("initramfs.img"),
                                                                commandLine: TestBed.commandLine))
        let markers = ["EMTS-INIT rootfs unpacked", "EMTS-TESTBED-READY multi-user"]
            + Self.commands.map { "EMTS-PKG \($0.name) rc=0" }
        // A status starting with any digit but 0 fails at once.
        let failures = BootExpectation.knownFailures + Self.commands.flatMap { tool in
            (1 ... 9).map { "EMTS-PKG \(tool.name) rc=\($0)" }
        }
        let result = try await BootRunner().boot(
            spec, expecting: BootExpectation(markers: markers, failures: failures),
            accelerator: accel.accelerator, log: work.appendingPathComponent("console.log"))
        print("packages testbed under OVMF: \(result.summary)")
        #expect(result.passed, "\(result.summary)")
    }
}
