import BootTest
import Foundation
import Testing

/// Drives the runner with a stand-in "qemu" (a shell script) so the plumbing is tested in milliseconds.
@Suite struct BootRunnerTests {
    func runner(script: String, in dir: URL) throws -> BootRunner {
        let path = dir.appendingPathComponent("fake-qemu")
        try ("#!/bin/sh\n" + script).write(to: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path.path)
        return BootRunner(qemu: path.path, slots: VMSlots(directory: dir.appendingPathComponent("slots").path, count: 2))
    }

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("boottest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func spec(_ dir: URL) throws -> MachineSpec {
        let kernel = dir.appendingPathComponent("vmlinuz")
        try Data("k".utf8).write(to: kernel)
        return MachineSpec(source: .kernel(kernel: kernel, initrd: nil, commandLine: "console=ttyS0"))
    }

    @Test func passesAndStopsTheMachineOnceMarkersAppear() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = try runner(script: "echo booting; echo 'EMTS READY'; exec sleep 600", in: dir)
        let result = try await runner.boot(try spec(dir), expecting: BootExpectation(markers: ["EMTS READY"]),
                                           accelerator: .tcg, log: dir.appendingPathComponent("console.log"))
        #expect(result.passed)
        // Had the machine not been killed, the run would have lasted the script's 600 s.
        #expect(result.duration < .seconds(300), "the machine is killed once the boot is decided")
        let log = try String(contentsOf: result.log, encoding: .utf8)
        #expect(log == "booting\nEMTS READY\n")
    }

    @Test func failureStringFailsTheBoot() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = try runner(script: "echo 'Kernel panic - not syncing'; exec sleep 30", in: dir)
        let result = try await runner.boot(try spec(dir), expecting: BootExpectation(markers: ["EMTS READY"]),
                                           accelerator: .tcg, log: dir.appendingPathComponent("console.log"))
        #expect(result.outcome == .failed(line: "Kernel panic - not syncing"))
        #expect(result.missing == ["EMTS READY"])
    }

    @Test func exitBeforeMarkersIsReportedWithQemusWords() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = try runner(script: "echo 'qemu: could not open disk' >&2; exit 1", in: dir)
        let result = try await runner.boot(try spec(dir), expecting: BootExpectation(markers: ["EMTS READY"]),
                                           accelerator: .tcg, log: dir.appendingPathComponent("console.log"))
        #expect(result.outcome == .exited)
        #expect(result.qemuErrors.contains("could not open disk"))
        #expect(result.summary.contains("missing markers: EMTS READY"))
    }

    @Test func silentMachineIsStopped() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = try runner(script: "echo hello; exec sleep 600", in: dir)
        let result = try await runner.boot(
            try spec(dir), expecting: BootExpectation(markers: ["NEVER"], overallTimeout: .seconds(300), silenceTimeout: .seconds(1)),
            accelerator: .tcg, log: dir.appendingPathComponent("console.log"))
        #expect(result.outcome == .silent)
    }

    @Test func missingInputIsNamed() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = try runner(script: "exit 0", in: dir)
        let spec = MachineSpec(source: .kernel(kernel: URL(fileURLWithPath: "/nonexistent/vmlinuz"), initrd: nil, commandLine: ""))
        await #expect(throws: BootTestError.self) {
            _ = try await runner.boot(spec, expecting: BootExpectation(markers: ["x"]), accelerator: .tcg,
                                      log: dir.appendingPathComponent("console.log"))
        }
    }

    @Test func slotsLimitConcurrentMachines() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let slots = VMSlots(directory: dir.path, count: 1)
        let order = OrderLog()
        async let first: Void = slots.withSlot {
            await order.add("first-start"); try? await Task.sleep(for: .milliseconds(800)); await order.add("first-end")
        }
        try await Task.sleep(for: .milliseconds(200))
        try await slots.withSlot { await order.add("second") }
        try await first
        #expect(await order.events == ["first-start", "first-end", "second"])
    }
}

actor OrderLog {
    var events: [String] = []
    func add(_ event: String) { events.append(event) }
}
