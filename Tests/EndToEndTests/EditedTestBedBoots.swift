import ArchiveKit
import BootTest
import Foundation
import MicroOS
import Testing

/// Boots the test bed µOS after `emts-iso`'s edit: the agents must stay down and show as masked.
@Suite struct EditedTestBedBoots {
    /// A unit added by the edit that reports, on the serial console, how systemd sees each agent.
    static let checkUnit = """
        [Unit]
        Description=emts-iso test: report agent enablement
        After=multi-user.target

        [Service]
        Type=oneshot
        ExecStart=/bin/sh -c 'for u in \(TestBed.agents.map { "\($0).service" }.joined(separator: " ")); do echo "EMTS-CHECK $u $(systemctl is-enabled $u)" > /dev/ttyS0; done'
        ExecStart=/bin/sh -c 'echo "EMTS-CMDLINE $(cat /proc/cmdline)" > /dev/ttyS0'

        [Install]
        WantedBy=multi-user.target
        """

    /// The standard edit plus the check unit.
    static var request: EditRequest {
        var request = EditRequest.standard
        request.files.append(EditRequest.File(destination: "/usr/lib/systemd/system/emts-check.service",
                                              source: .inline(Array(checkUnit.utf8))))
        request.enableUnits.append("emts-check.service")
        return request
    }

    /// Boots `work/vmlinuz` + `work/initramfs.img`, expecting multi-user with every agent masked and none started.
    static func bootEdited(_ work: URL, bed: TestBed) async throws -> BootResult {
        let accel = await AcceleratorChoice.resolve(probeKernel: bed.kernel)
        let spec = MachineSpec(source: .kernel(kernel: work.appendingPathComponent("vmlinuz"),
                                               initrd: work.appendingPathComponent("initramfs.img"),
                                               commandLine: TestBed.commandLine))
        let markers = ["EMTS-INIT rootfs unpacked", "EMTS-TESTBED-MODULES nbd=yes", "EMTS-TESTBED-READY multi-user"]
            + TestBed.agents.map { "EMTS-CHECK \($0).service masked" }
        let failures = BootExpectation.knownFailures + TestBed.agents.map { "EMTS-AGENT-STARTED \($0)" }
        return try await BootRunner().boot(
            spec, expecting: BootExpectation(markers: markers, failures: failures),
            accelerator: accel.accelerator, log: work.appendingPathComponent("console.log"))
    }

    @Test("Edited µOS reaches multi-user with every agent masked", arguments: TestBed.Variant.allCases)
    func agentsStayDown(variant: TestBed.Variant) async throws {
        let bed = try await TestBed.sharedAsync()
        let work = TestBed.logDirectory.appendingPathComponent("edited-\(variant.rawValue)")
        try? FileManager.default.removeItem(at: work)
        let inputs = MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(variant).path, request: Self.request)
        let manifest = try await offloaded {
            try MicroOSBuild.writeInitramfsPair(inputs, plan: try MicroOSBuild.plan(inputs), into: work.path, tool: "test")
        }
        #expect(manifest.rewrite.removed == 4)
        let result = try await Self.bootEdited(work, bed: bed)
        print("edited testbed \(variant.rawValue): \(result.summary)")
        #expect(result.passed, "\(result.summary)")
    }

    @Test("Edited µOS with a zstd- or xz-compressed initramfs boots", arguments: [ArchiveFilter.zstd, .xz])
    func outerCompressionBoots(compression: ArchiveFilter) async throws {
        let bed = try await TestBed.sharedAsync()
        let work = TestBed.logDirectory.appendingPathComponent("edited-gzip-to-\(compression.rawValue)")
        try? FileManager.default.removeItem(at: work)
        let inputs = MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.gzip).path, request: Self.request,
                                   options: RewriteOptions(outerCompression: compression))
        let manifest = try await offloaded {
            try MicroOSBuild.writeInitramfsPair(inputs, plan: try MicroOSBuild.plan(inputs), into: work.path, tool: "test")
        }
        #expect(manifest.rewrite.outerCompression == compression)
        let result = try await Self.bootEdited(work, bed: bed)
        print("edited testbed gzip -> \(compression.rawValue): \(result.summary)")
        #expect(result.passed, "\(result.summary)")
    }
}
