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
            if let kept = spec.variableStore {
                if !fm.fileExists(atPath: kept.path) { try fm.copyItem(atPath: images.varsTemplate, toPath: kept.path) }
                varsCopy = kept
            } else {
                let copy = scratch.appendingPathComponent("OVMF_VARS.fd")
                try fm.copyItem(atPath: images.varsTemplate, toPath: copy.path)
                varsCopy = copy
            }
        }
        let arguments = try spec.arguments(accelerator: accelerator, varsCopy: varsCopy)
        guard fm.createFile(atPath: log.path, contents: nil), let logHandle = try? FileHandle(forWritingTo: log) else {
            throw BootTestError.qemu("cannot create console log \(log.path)")
        }
        defer { try? logHandle.close() }
        logger.info("booting", metadata: ["accelerator": "\(accelerator.rawValue)", "firmware": "\(spec.firmware.rawValue)",
                                          "log": "\(log.path)"])
        logger.debug("qemu command", metadata: ["argv": "\(([qemu] + arguments).joined(separator: " "))"])

        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw BootTestError.qemu("cannot create the console pipe") }
        // Only QEMU may hold the write end (other children must not inherit it, or its end never shows);
        // our own copy is closed once QEMU is spawned.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)  // dup2 onto its stdout clears it in QEMU only
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }
        let console = ConsoleTap(monitor: SerialMonitor(expectation: expectation), log: logHandle)
        let clock = ContinuousClock()
        let start = clock.now
        let execution = try await Subprocess.run(
            .path(FilePath(qemu)), arguments: Arguments(arguments), input: .none,
            output: .fileDescriptor(FileDescriptor(rawValue: writeEnd), closeAfterSpawningProcess: true),
            error: .string(limit: 64 << 10)
        ) { execution -> BootOutcome in
            // The console is read and judged on a thread of its own: a busy concurrency pool (heavy work
            // elsewhere in the process) must not delay the timeouts nor stall QEMU on a full pipe.
            await withCheckedContinuation { (continuation: CheckedContinuation<BootOutcome, Never>) in
                let thread = Thread {
                    let verdict = console.follow(descriptor: readEnd, clock: clock, start: start)
                    try? execution.send(signal: .kill)
                    continuation.resume(returning: verdict)
                }
                thread.name = "emts-boot-console"
                thread.start()
            }
        }
        let final = console.snapshot
        return BootResult(
            outcome: execution.closureResult, accelerator: accelerator, duration: clock.now - start,
            markers: final.seen, missing: final.missing, log: log, tail: final.tail,
            qemuErrors: execution.standardError)
    }
}

/// The serial console as it arrives: appended to the log file and fed to the monitor.
private final class ConsoleTap: Sendable {
    private let monitor: Mutex<SerialMonitor>
    private let log: Mutex<FileHandle>

    init(monitor: SerialMonitor, log: FileHandle) {
        self.monitor = Mutex(monitor)
        self.log = Mutex(log)
    }

    /// Reads `descriptor` until the boot is decided or the machine closes its console; blocking, so call it
    /// on a thread of its own.
    func follow(descriptor: Int32, clock: ContinuousClock, start: ContinuousClock.Instant) -> BootOutcome {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&poller, 1, 250)
            let now = clock.now - start
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count == 0 { return monitor.withLock { $0.finish(at: now) } }
                if count > 0 {
                    let bytes = Array(buffer[0 ..< count])
                    log.withLock { try? $0.write(contentsOf: bytes) }
                    if let verdict = monitor.withLock({ $0.feed(bytes, at: now) }) { return verdict }
                    continue
                }
                if errno != EINTR && errno != EAGAIN { return monitor.withLock { $0.finish(at: now) } }
            }
            if let verdict = monitor.withLock({ $0.check(at: now) }) { return verdict }
        }
    }

    var snapshot: SerialMonitor { monitor.withLock { $0 } }
}
