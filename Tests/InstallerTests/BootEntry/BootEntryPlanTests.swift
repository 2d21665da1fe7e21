import Foundation
@testable import Installer
import Testing

/// A pretend firmware answering efibootmgr like the real tool: listings, deletions, creation (the lowest free
/// number; new entries go to the front of BootOrder unless `createsLast`), BootOrder changes.
final class FakeFirmware: @unchecked Sendable {
    private let lock = NSLock()
    var entries: [(number: Int, label: String, path: String)]
    var order: [Int]
    let createsLast: Bool

    init(entries: [(Int, String, String)], order: [Int], createsLast: Bool = false) {
        self.entries = entries.map { (number: $0.0, label: $0.1, path: $0.2) }
        self.order = order
        self.createsLast = createsLast
    }

    func listing() -> String {
        var lines = ["BootCurrent: 0002", "BootOrder: " + order.map { String(format: "%04X", $0) }.joined(separator: ",")]
        for entry in entries.sorted(by: { $0.number < $1.number }) {
            lines.append(String(format: "Boot%04X* ", entry.number) + entry.label + "\t" + entry.path)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func answer(_ command: [String]) -> CommandResult {
        lock.withLock {
            guard command.first == "efibootmgr" else { return CommandResult(status: 0) }
            let arguments = Array(command.dropFirst())
            func value(_ option: String) -> String? {
                arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
            }
            if arguments.contains("--delete-bootnum"), let number = value("--bootnum").flatMap({ Int($0, radix: 16) }) {
                guard entries.contains(where: { $0.number == number }) else {
                    return CommandResult(status: 5, standardError: "Could not delete variable: No such file or directory\n")
                }
                entries.removeAll { $0.number == number }
                order.removeAll { $0 == number }
            } else if arguments.contains("--create") {
                let number = (0...).first { candidate in !entries.contains { $0.number == candidate } } ?? 0
                entries.append((number, value("--label") ?? "", "HD(\(value("--part") ?? "?"),GPT,new)/File(\(value("--loader") ?? ""))"))
                if createsLast { order.append(number) } else { order.insert(number, at: 0) }
            } else if let newOrder = value("--bootorder") {
                order = newOrder.split(separator: ",").compactMap { Int($0, radix: 16) }
            }
            return CommandResult(status: 0, standardOutput: listing())
        }
    }
}

@Suite struct BootEntryPlanTests {
    @Test func plansDeletionOfStaleEntriesAndCreation() {
        let current = EFIBootManagerState(parsing: ovmfListing + "\nBoot0007* EMT-S\tHD(1,GPT,old,0x800,0x100000)\n")
        let plan = BootEntryPlan(firmware: .uefi, disk: "/dev/nvme0n1", espPartition: 1, current: current)
        #expect(plan.staleEntries.map(\.number) == ["0004", "0007"])
        #expect(plan.deleteCommands == [["efibootmgr", "--bootnum", "0004", "--delete-bootnum"],
                                        ["efibootmgr", "--bootnum", "0007", "--delete-bootnum"]])
        #expect(plan.createCommand == ["efibootmgr", "--create", "--disk", "/dev/nvme0n1", "--part", "1",
                                       "--label", "EMT-S", "--loader", #"\EFI\BOOT\BOOTX64.EFI"#])
        #expect(plan.steps.count == 4)
        #expect(plan.steps[0].hasPrefix("delete the stale boot entry Boot0004 \"EMT-S\""))
        #expect(plan.steps[2].contains("/dev/nvme0n1 partition 1"))

        let custom = BootEntryPlan(firmware: .uefi, disk: "/dev/sda", espPartition: 2, current: current,
                                   label: "EMT-S lab", loader: #"\EFI\BOOT\shimx64.efi"#)
        #expect(custom.staleEntries.isEmpty)
        #expect(custom.createCommand.suffix(4) == ["--label", "EMT-S lab", "--loader", #"\EFI\BOOT\shimx64.efi"#])
    }

    @Test func biosNeedsNothing() throws {
        let plan = BootEntryPlan(firmware: .bios, disk: "/dev/sda", espPartition: 1, current: nil)
        #expect(plan.steps == ["BIOS firmware: no boot entry to set (the image's boot code in its first sectors is what the BIOS runs)"])
        let runner = RecordingRunner()
        #expect(try plan.apply(using: runner) == nil)
        #expect(runner.commands.isEmpty)
    }

    @Test func appliesAgainstTheFirmware() throws {
        let firmware = FakeFirmware(entries: [(0, "UiApp", "FvVol(x)"), (2, "UEFI USB", "PciRoot(0x0)"),
                                              (4, "EMT-S", "HD(1,GPT,old)")], order: [4, 2, 0])
        let runner = RecordingRunner { firmware.answer($0) }
        let current = try BootEntryPlan.readState(using: runner)
        let plan = BootEntryPlan(firmware: .uefi, disk: "/dev/sda", espPartition: 1, current: current)
        let number = try plan.apply(using: runner)
        #expect(number == "0001", "efibootmgr takes the lowest free number")
        #expect(firmware.entries.filter { $0.label == "EMT-S" }.map(\.number) == [1])
        #expect(firmware.order == [1, 2, 0])
        #expect(runner.commands.map { $0.dropFirst().first ?? "" } == ["-v", "--bootnum", "-v", "--create"])
    }

    @Test func putsTheEntryFirstWhenTheFirmwareDoesNot() throws {
        let firmware = FakeFirmware(entries: [(0, "UiApp", "FvVol(x)"), (1, "UEFI USB", "PciRoot(0x0)")], order: [1, 0],
                                    createsLast: true)
        let runner = RecordingRunner { firmware.answer($0) }
        let plan = BootEntryPlan(firmware: .uefi, disk: "/dev/sda", espPartition: 1, current: try BootEntryPlan.readState(using: runner))
        #expect(try plan.apply(using: runner) == "0002")
        #expect(firmware.order == [2, 1, 0])
        #expect(runner.commands.contains(["efibootmgr", "--bootorder", "0002,0001,0000"]))
        #expect(runner.commands.last == ["efibootmgr", "-v"], "the new order is checked")
    }

    @Test func failuresNameTheCommand() throws {
        let unavailable = ProcessRunnerStandIn()
        let plan = BootEntryPlan(firmware: .uefi, disk: "/dev/sda", espPartition: 1, current: nil)
        #expect(throws: BootEntryError.unavailable(CommandError(command: ["efibootmgr", "-v"], reason: "efibootmgr not found"))) {
            try plan.apply(using: unavailable)
        }
        let failing = RecordingRunner { _ in CommandResult(status: 2, standardError: "EFI variables are not supported on this system.\n") }
        #expect(throws: BootEntryError.commandFailed(command: ["efibootmgr", "-v"], status: 2,
                                                     message: "EFI variables are not supported on this system.")) {
            try plan.apply(using: failing)
        }
    }
}

/// A runner whose program is never found.
private struct ProcessRunnerStandIn: CommandRunner {
    func run(_ arguments: [String]) throws(CommandError) -> CommandResult {
        throw CommandError(command: arguments, reason: "\(arguments[0]) not found")
    }
}
