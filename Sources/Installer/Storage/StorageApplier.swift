import DiskKit
import Foundation

/// What the storage step did.
public struct StorageReport: Sendable, Equatable {
    /// One line per step, for the install log.
    public var lines: [String]
    /// The table as read back after the commit.
    public var partitions: [Partition]
    /// The swap partition's UUID as mkswap printed it (for the installed system's fstab).
    public var swapUUID: String?
    /// Rootfs A's dm-verity root hash (hex).
    public var rootHash: String?

    public init(lines: [String] = [], partitions: [Partition] = [], swapUUID: String? = nil, rootHash: String? = nil) {
        self.lines = lines
        self.partitions = partitions
        self.swapUUID = swapUUID
        self.rootHash = rootHash
    }
}

/// Carries out a `StoragePlan`: adds the partitions with libparted, commits, reads the table back, then runs
/// the tools through a `CommandRunner`.
///
/// Two phases: `prepare` (partitions, swap, rootfs B, LVM) and `seal` (the dm-verity hash tree of rootfs A
/// and its root hash). Sealing must come after the last write to rootfs A (configuration, SELinux labels):
/// any later change to it breaks verification at boot. `apply` runs both.
public struct StorageApplier: Sendable {
    public var runner: any CommandRunner
    /// How long to wait for the kernel to show the new partition nodes (block devices only).
    public var nodeTimeout: Double
    /// Where the root hash file is staged for `mkfs.ext4 -d`.
    public var stagingDirectory: String

    public init(runner: any CommandRunner, nodeTimeout: Double = 15,
                stagingDirectory: String = FileManager.default.temporaryDirectory.path) {
        self.runner = runner
        self.nodeTimeout = nodeTimeout
        self.stagingDirectory = stagingDirectory
    }

    /// Prepares and seals: the whole plan.
    /// - Parameter log: receives each line as it happens (the report has them all too).
    /// - Throws: `StorageError` naming the step, and for a tool its command line and output.
    public func apply(_ plan: StoragePlan, log: (String) -> Void = { _ in }) throws(StorageError) -> StorageReport {
        var report = try prepare(plan, log: log)
        let sealed = try seal(plan, log: log)
        report.lines += sealed.lines
        report.rootHash = sealed.rootHash
        return report
    }

    /// Adds the partitions, commits, reads the table back, waits for the nodes, then makes swap, rootfs B's
    /// file system and the LVM volume group.
    public func prepare(_ plan: StoragePlan, log: (String) -> Void = { _ in }) throws(StorageError) -> StorageReport {
        var report = StorageReport()
        func say(_ line: String) {
            report.lines.append(line)
            log(line)
        }
        guard !plan.partitions.isEmpty else {
            say("storage layout \"none\": no partitions added")
            return report
        }
        // A volume group of the same name on another disk would make vgcreate fail after the partitions are
        // written: find it first.
        for case .clearVolumeGroup(let name, let disk, let joining) in plan.commands {
            say(try clearVolumeGroup(name, disk: disk, joining: joining))
        }
        let written = try writePartitions(plan, say: say)
        report.partitions = written.partitions
        if written.isBlockDevice {
            try waitForNodes(plan.partitions.map(\.devicePath))
            say("partition nodes present: " + plan.partitions.map(\.devicePath).joined(separator: " "))
        }
        for command in plan.preparationCommands {
            switch command {
            case .makeSwap:
                let result = try run(command.arguments)
                report.swapUUID = Self.swapUUID(result.standardOutput)
                say("made swap: \(command.arguments.joined(separator: " "))"
                    + (report.swapUUID.map { " (UUID \($0))" } ?? ""))
            case .clearVolumeGroup(let name, let disk, let joining):
                say(try clearVolumeGroup(name, disk: disk, joining: joining))
            default:
                try run(command.arguments)
                say("\(command.summary): \(command.arguments.joined(separator: " "))")
            }
        }
        return report
    }

    /// Computes rootfs A's dm-verity hash tree onto hashmap_a and stores the root hash on the roothash
    /// partition. Run it after the last write to rootfs A.
    public func seal(_ plan: StoragePlan, log: (String) -> Void = { _ in }) throws(StorageError) -> StorageReport {
        var report = StorageReport()
        func say(_ line: String) {
            report.lines.append(line)
            log(line)
        }
        for command in plan.sealCommands {
            switch command {
            case .formatVerity:
                let result = try run(command.arguments)
                guard let hash = Self.rootHash(result.standardOutput) else {
                    throw .unexpectedOutput(command: command.arguments, detail: "no \"Root hash:\" line with a hex hash",
                                            output: Self.output(result))
                }
                report.rootHash = hash
                say("\(command.summary): \(command.arguments.joined(separator: " ")): root hash \(hash)")
            case .storeRootHash(let device):
                guard let hash = report.rootHash else {
                    throw .unexpectedOutput(command: command.arguments, detail: "no root hash computed before it",
                                            output: "")
                }
                let arguments = try storeRootHash(hash, device: device)
                say("\(command.summary): \(arguments.joined(separator: " "))")
            default:
                try run(command.arguments)
                say("\(command.summary): \(command.arguments.joined(separator: " "))")
            }
        }
        return report
    }

    // MARK: Partitions

    /// Adds, commits and reads back; returns the table read back and whether the disk is a block device.
    private func writePartitions(_ plan: StoragePlan, say: (String) -> Void) throws(StorageError)
        -> (partitions: [Partition], isBlockDevice: Bool) {
        let table: PartitionTable
        do {
            table = try DiskDevice(path: plan.disk).readPartitionTable()
        } catch {
            throw .partitionTable(error)
        }
        try checkUnchanged(table.partitions, plan: plan)
        for part in plan.partitions {
            let added: Partition
            do {
                added = try table.add(part.spec)
            } catch {
                throw .partitionTable(error)
            }
            guard added.number == part.number else {
                throw .readBack(disk: plan.disk, detail: "\"\(part.name)\" became partition \(added.number), "
                    + "planned as \(part.number)")
            }
            say("add partition \(part.number) \"\(part.name)\" \(part.sizeMiB) MiB (\(part.role.type.label)), "
                + "sectors \(part.start)...\(part.end)")
        }
        do {
            try table.commit()
        } catch {
            throw .partitionTable(error)
        }
        say("partition table of \(plan.disk) written")
        return (try readBack(plan, say: say), table.device.isBlockDevice)
    }

    /// Nothing may have changed on the table since the plan was made.
    private func checkUnchanged(_ partitions: [Partition], plan: StoragePlan) throws(StorageError) {
        let now = partitions.map { "\($0.number):\($0.start)-\($0.end)" }
        let planned = plan.kept.map { "\($0.number):\($0.start)-\($0.end)" }
        guard now == planned else {
            throw .unexpectedTable(disk: plan.disk, detail: "the table changed since the plan (partitions "
                + "\(now.joined(separator: " ")), planned against \(planned.joined(separator: " ")))")
        }
    }

    private func readBack(_ plan: StoragePlan, say: (String) -> Void) throws(StorageError) -> [Partition] {
        let partitions: [Partition]
        do {
            partitions = try DiskDevice(path: plan.disk).readPartitionTable().partitions
        } catch {
            throw .partitionTable(error)
        }
        for part in plan.partitions {
            guard let found = partitions.first(where: { $0.number == part.number }) else {
                throw .readBack(disk: plan.disk, detail: "no partition \(part.number) (\"\(part.name)\")")
            }
            guard found.name == part.name, found.start == part.start, found.end == part.end else {
                throw .readBack(disk: plan.disk, detail: "partition \(part.number) is \"\(found.name ?? "")\" at "
                    + "\(found.start)...\(found.end), planned \"\(part.name)\" at \(part.start)...\(part.end)")
            }
        }
        say("re-read the table: \(partitions.count) partitions, \(plan.partitions.count) new ones as planned")
        return partitions
    }

    private func waitForNodes(_ nodes: [String]) throws(StorageError) {
        let deadline = Date().addingTimeInterval(nodeTimeout)
        while true {
            let missing = nodes.filter { !FileManager.default.fileExists(atPath: $0) }
            if missing.isEmpty { return }
            guard Date() < deadline else { throw .deviceNodesMissing(missing, seconds: nodeTimeout) }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    // MARK: Tools

    @discardableResult
    private func run(_ arguments: [String]) throws(StorageError) -> CommandResult {
        let result: CommandResult
        do {
            result = try runner.run(arguments)
        } catch {
            throw .commandUnavailable(error)
        }
        guard result.status == 0 else {
            throw .commandFailed(command: arguments, status: result.status, output: Self.output(result))
        }
        return result
    }

    /// Removes volume group `name` when all its physical volumes are partitions of `disk`; stops when one is
    /// elsewhere. Returns the line for the log.
    private func clearVolumeGroup(_ name: String, disk: String, joining: [String]) throws(StorageError) -> String {
        let query = StorageCommand.volumeGroupQuery(name)
        let result: CommandResult
        do {
            result = try runner.run(query)
        } catch {
            throw .commandUnavailable(error)
        }
        guard result.status == 0 else {
            if (result.standardError + result.standardOutput).contains("not found") {
                return "no volume group \(name) on this machine (\(query.joined(separator: " ")))"
            }
            throw .commandFailed(command: query, status: result.status, output: Self.output(result))
        }
        let devices = Self.volumeGroupDevices(result.standardOutput, name: name)
        let allowed = [disk] + joining
        let elsewhere = devices.filter { device in
            !allowed.contains { device == $0 || PartitionNode.number(of: device, onDisk: $0) != nil }
        }
        guard elsewhere.isEmpty else { throw .volumeGroupOnOtherDisks(name: name, devices: elsewhere) }
        let remove = ["vgremove", "-f", "-y", name]
        try run(remove)
        return "removed the old volume group \(name) on \(devices.joined(separator: ", ")): \(remove.joined(separator: " "))"
    }

    /// Writes the root hash file into a staging directory and makes the roothash file system from it.
    private func storeRootHash(_ hash: String, device: String) throws(StorageError) -> [String] {
        let directory = stagingDirectory + "/install-os-roothash-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0 ... .max))"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data((hash + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/" + StoragePlan.rootHashFileName))
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw .staging(path: directory, reason: error.localizedDescription)
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = StorageCommand.storeRootHashArguments(device: device, staging: directory)
        try run(arguments)
        return arguments
    }

    // MARK: Output parsing

    /// The hex root hash from `veritysetup format` output (`Root hash:      \t<hex>`).
    static func rootHash(_ output: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix("Root hash:") {
            let value = String(line.dropFirst("Root hash:".count)).trimmingWhitespace
            let hexDigits = "0123456789abcdefABCDEF"
            guard value.count >= 32, value.count % 2 == 0, value.allSatisfy({ hexDigits.contains($0) }) else { return nil }
            return value.lowercased()
        }
        return nil
    }

    /// The UUID mkswap printed (`LABEL=swap, UUID=...`).
    static func swapUUID(_ output: String) -> String? {
        guard let range = output.range(of: "UUID=") else { return nil }
        let value = output[range.upperBound...].prefix { !$0.isWhitespace && $0 != "," }
        return value.isEmpty ? nil : String(value)
    }

    /// The physical volumes `vgs --noheadings --separator "|" -o vg_name,pv_name` lists for `name`.
    static func volumeGroupDevices(_ output: String, name: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace }
            guard fields.count >= 2, fields[0] == name, !fields[1].isEmpty else { return nil }
            return fields[1]
        }
    }

    /// What a failed tool printed: standard error, then standard output, trimmed to the last 20 lines.
    static func output(_ result: CommandResult) -> String {
        let lines = (result.standardError + "\n" + result.standardOutput).split(separator: "\n")
            .map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
        return lines.suffix(20).joined(separator: " | ")
    }
}
