import BootTest
import Foundation
import Testing

/// Boots the unmodified test bed µOS the way the real µOS boots, and reads the outcome off the serial console.
/// The variants run concurrently; the VM slots let two machines run at a time.
@Suite struct UnmodifiedTestBedBoots {
    static let markers = ["EMTS-INIT rootfs unpacked"]
        + TestBed.agents.map { "EMTS-AGENT-STARTED \($0)" }
        + ["EMTS-TESTBED-MODULES nbd=yes", "EMTS-TESTBED-READY multi-user"]

    @Test("Unmodified µOS reaches multi-user with all four agents", arguments: TestBed.Variant.allCases)
    func bootsToMultiUserWithAllAgents(variant: TestBed.Variant) async throws {
        let bed = try await TestBed.sharedAsync()
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let spec = MachineSpec(source: .kernel(kernel: bed.kernel, initrd: bed.initramfs(variant),
                                               commandLine: TestBed.commandLine))
        let result = try await BootRunner().boot(
            spec, expecting: BootExpectation(markers: Self.markers),
            accelerator: accel.accelerator,
            log: TestBed.logDirectory.appendingPathComponent("testbed-\(variant.rawValue).log"))
        print("testbed \(variant.rawValue): \(result.summary); accelerator chosen: \(accel)")
        #expect(result.passed, "\(result.summary)")
        // systemd reached multi-user only after every agent it wants had started.
        if let ready = result.markers["EMTS-TESTBED-READY multi-user"] {
            for agent in TestBed.agents {
                let started = result.markers["EMTS-AGENT-STARTED \(agent)"]
                #expect(started != nil && started! <= ready, "\(agent) started before multi-user was reached")
            }
        }
    }

    @Test("The µOS init refuses a root= other than tmpfs")
    func initRefusesAnotherRoot() async throws {
        let bed = try await TestBed.sharedAsync()
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let commandLine = TestBed.commandLine.replacingOccurrences(of: "root=tmpfs", with: "root=/dev/sda2")
        let spec = MachineSpec(source: .kernel(kernel: bed.kernel, initrd: bed.initramfs(.gzip), commandLine: commandLine))
        let result = try await BootRunner().boot(
            spec, expecting: BootExpectation(markers: ["EMTS-INIT-ERROR unsupported root=/dev/sda2"], failures: ["EMTS-AGENT-STARTED"]),
            accelerator: accel.accelerator,
            log: TestBed.logDirectory.appendingPathComponent("testbed-wrong-root.log"))
        #expect(result.passed, "\(result.summary)")
    }
}
