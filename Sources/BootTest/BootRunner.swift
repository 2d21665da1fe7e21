import Foundation
import Logging
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The record of one test boot.
public struct BootResult: Sendable {
    public var outcome: BootOutcome
    public var accelerator: Accelerator
    /// Wall time from QEMU's start to the decision.
    public var duration: Duration
    /// Each marker with the time at which it appeared.
    public var markers: [String: Duration]
    /// Markers that never appeared.
    public var missing: [String]
    /// The full serial console, as received.
    public var log: URL
    /// The last console lines, for reports.
    public var tail: [String]
    /// What QEMU itself printed on standard error (bad arguments, missing files).
    public var qemuErrors: String

    public var passed: Bool { outcome == .passed }

    /// A few lines for a human: the outcome, the timing, and on failure the console's end.
    public var summary: String {
        var text = "\(outcome) after \(duration.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))) "
            + "(accelerator \(accelerator.rawValue), log \(log.path))"
        if !passed {
            if !missing.isEmpty { text += "\nmissing markers: \(missing.joined(separator: ", "))" }
            if !qemuErrors.isEmpty { text += "\nqemu: \(qemuErrors.trimmingCharacters(in: .whitespacesAndNewlines))" }
            text += "\nlast console lines:\n" + tail.suffix(15).map { "  | \($0)" }.joined(separator: "\n")
        }
        return text
    }
}

/// Boots test machines under QEMU and decides each boot from its serial console.
public struct BootRunner: Sendable {
    public var qemu: String
    public var slots: VMSlots
    public var logger: Logger

    public init(qemu: String = "/usr/bin/qemu-system-x86_64", slots: VMSlots = .shared,
                logger: Logger = Logger(label: "emts-iso.boot-test")) {
        self.qemu = qemu
        self.slots = slots
        self.logger = logger
    }

    /// Boots `spec` with `accelerator`, writes the console to `log`, and waits until `expectation` is decided.
    /// Waits for a free VM slot first. The machine is killed once the boot is decided.
    /// - Throws: `BootTestError` when QEMU, firmware or an input is missing; a failing boot is a result, not an error.
    public func boot(_ spec: MachineSpec, expecting expectation: BootExpectation, accelerator: Accelerator,
                     log: URL) async throws -> BootResult {
        guard FileManager.default.isExecutableFile(atPath: qemu) else {
            throw BootTestError.missingTool("\(qemu); install it with: apt-get install qemu-system-x86")
        }
        try spec.firmware.checkInstalled()
        for input in spec.inputs where !FileManager.default.isReadableFile(atPath: input.path) {
            throw BootTestError.missingInput(input.path)
        }
        return try await slots.withSlot {
            try await run(spec, expectation: expectation, accelerator: accelerator, log: log)
        }
    }

    private func run(_ spec: MachineSpec, expectation: BootExpectation, accelerator: Accelerator,
                     log: URL) async throws -> BootResult {
        let fm = FileManager.default
        try fm.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
        let scratch = fm.temporaryDirectory.appendingPathComponent("emts-boot-\(UUID().uuidString)")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        var varsCopy: URL?
        if let images = spec.firmware.images {
            let copy = scratch.appendingPathComponent("OVMF_VARS.fd")
            try fm.copyItem(atPath: images.varsTemplate, toPath: copy.path)
            varsCopy = copy
        }
        let arguments = try spec.arguments(accelerator: accelerator, varsCopy: varsCopy)
        guard fm.createFile(atPath: log.path, contents: nil), let logHandle = try? FileHandle(forWritingTo: log) else {
            throw BootTestError.qemu("cannot create console log \(log.path)")
        }
        defer { try? logHandle.close() }
        logger.info("booting", metadata: ["accelerator": "\(accelerator.rawValue)", "firmware": "\(spec.firmware.rawValue)",
                                          "log": "\(log.path)"])
        logger.debug("qemu command", metadata: ["argv": "\(([qemu] + arguments).joined(separator: " "))"])

        let console = ConsoleTap(monitor: SerialMonitor(expectation: expectation), log: logHandle)
        let clock = ContinuousClock()
        let start = clock.now
        let execution = try await Subprocess.run(
            .path(FilePath(qemu)), arguments: Arguments(arguments),
            input: .none, output: .sequence, error: .string(limit: 64 << 10)
        ) { execution -> BootOutcome in
            let outcome = await withTaskGroup(of: BootOutcome?.self) { group in
                group.addTask {
                    do {
                        for try await chunk in execution.standardOutput {
                            let bytes = chunk.withUnsafeBytes { Array($0) }
                            if let verdict = console.receive(bytes, at: clock.now - start) { return verdict }
                        }
                    } catch {
                        return .exited
                    }
                    return console.finish(at: clock.now - start)
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(250))
                        if let verdict = console.check(at: clock.now - start) { return verdict }
                    }
                    return nil
                }
                var decided: BootOutcome = .exited
                for await verdict in group {
                    if let verdict { decided = verdict; break }
                }
                try? execution.send(signal: .kill)
                group.cancelAll()
                return decided
            }
            return outcome
        }
        let final = console.snapshot
        return BootResult(
            outcome: execution.closureResult, accelerator: accelerator, duration: clock.now - start,
            markers: final.seen, missing: final.missing, log: log, tail: final.tail,
            qemuErrors: execution.standardError ?? "")
    }
}

/// The serial console as it arrives: appended to the log file and fed to the monitor, from concurrent tasks.
private final class ConsoleTap: Sendable {
    private let monitor: Mutex<SerialMonitor>
    private let log: Mutex<FileHandle>

    init(monitor: SerialMonitor, log: FileHandle) {
        self.monitor = Mutex(monitor)
        self.log = Mutex(log)
    }

    func receive(_ bytes: [UInt8], at elapsed: Duration) -> BootOutcome? {
        log.withLock { try? $0.write(contentsOf: bytes) }
        return monitor.withLock { $0.feed(bytes, at: elapsed) }
    }

    func check(at elapsed: Duration) -> BootOutcome? { monitor.withLock { $0.check(at: elapsed) } }

    func finish(at elapsed: Duration) -> BootOutcome { monitor.withLock { $0.finish(at: elapsed) } }

    var snapshot: SerialMonitor { monitor.withLock { $0 } }
}
