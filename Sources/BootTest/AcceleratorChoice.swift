import Foundation
import Synchronization

/// Picks KVM or TCG for test boots.
///
/// `/dev/kvm` may exist and still hang every guest (nested, instruction-emulated KVM never gets a guest past
/// kernel decompression), so KVM is used only after a short trial boot proves it works: the probe boots a
/// kernel with no root filesystem under KVM and expects its "Unable to mount root fs" panic within seconds.
/// `EMTS_ACCEL=kvm|tcg` skips the probe.
public struct AcceleratorChoice: Sendable, CustomStringConvertible {
    public var accelerator: Accelerator
    /// Why this accelerator was chosen, for the log.
    public var reason: String

    public var description: String { "\(accelerator.rawValue) (\(reason))" }

    private static let decision = Mutex<Task<AcceleratorChoice, Never>?>(nil)

    /// Decides once per process (concurrent callers share the one trial boot); later calls return the first
    /// decision.
    /// - Parameter probeKernel: a bootable x86-64 kernel image for the trial boot.
    public static func resolve(probeKernel: URL?, runner: BootRunner = BootRunner()) async -> AcceleratorChoice {
        let task = decision.withLock { pending in
            if let pending { return pending }
            let task = Task {
                let choice = await decide(probeKernel: probeKernel, runner: runner)
                runner.logger.notice("accelerator: \(choice)")
                return choice
            }
            pending = task
            return task
        }
        return await task.value
    }

    private static func decide(probeKernel: URL?, runner: BootRunner) async -> AcceleratorChoice {
        switch ProcessInfo.processInfo.environment["EMTS_ACCEL"] {
        case "tcg": return AcceleratorChoice(accelerator: .tcg, reason: "EMTS_ACCEL=tcg")
        case "kvm": return AcceleratorChoice(accelerator: .kvm, reason: "EMTS_ACCEL=kvm")
        default: break
        }
        guard access("/dev/kvm", R_OK | W_OK) == 0 else {
            return AcceleratorChoice(accelerator: .tcg, reason: "/dev/kvm is not usable")
        }
        guard let probeKernel else {
            return AcceleratorChoice(accelerator: .tcg, reason: "no kernel to trial-boot KVM with")
        }
        let spec = MachineSpec(source: .kernel(kernel: probeKernel, initrd: nil,
                                               commandLine: "console=ttyS0,115200n8 panic=-1"),
                               memoryMiB: 256)
        let expectation = BootExpectation(markers: ["Unable to mount root fs"], failures: [],
                                          overallTimeout: .seconds(20), silenceTimeout: .seconds(15))
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("emts-kvm-probe-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        do {
            let result = try await runner.boot(spec, expecting: expectation, accelerator: .kvm, log: log)
            if result.passed {
                return AcceleratorChoice(accelerator: .kvm, reason: "KVM trial boot reached the kernel in \(result.duration)")
            }
            let detail = result.qemuErrors.split(separator: "\n").first.map { ": \($0)" } ?? ""
            return AcceleratorChoice(accelerator: .tcg, reason: "KVM trial boot failed (\(result.outcome)\(detail))")
        } catch {
            return AcceleratorChoice(accelerator: .tcg, reason: "KVM trial boot could not run: \(error)")
        }
    }
}
