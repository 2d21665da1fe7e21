import Foundation

/// One cell of an install medium's boot matrix: firmware, how the medium is attached, and optionally an
/// empty target disk on a bus.
public struct BootCell: Sendable, Hashable, Codable, CustomStringConvertible {
    public var firmware: Firmware
    public var media: MediaKind
    public var target: DiskBus?

    public init(firmware: Firmware, media: MediaKind, target: DiskBus? = nil) {
        self.firmware = firmware
        self.media = media
        self.target = target
    }

    /// "uefi-usb", "bios-cd-nvme": also the stem of the cell's log file.
    public var description: String {
        [firmware.rawValue, media.rawValue, target?.rawValue].compactMap { $0 }.joined(separator: "-")
    }
}

/// What decides a cell for an EMT-S medium whatever µOS it carries: the kernel got the medium's command line,
/// systemd reached multi-user, and no provisioning agent started.
public struct MediumBootCheck: Sendable {
    /// The line the kernel must print as "Kernel command line: ...", for each way the medium boots: GRUB
    /// adds `BOOT_IMAGE=`; a signed unified kernel image passes its own line.
    public var grubCommandLine: String
    public var signedCommandLine: String?
    /// Units that must not start (the provisioning agents).
    public var forbiddenUnits: [String]
    public var overallTimeout: Duration = .seconds(480)

    public init(grubCommandLine: String, signedCommandLine: String? = nil, forbiddenUnits: [String]) {
        self.grubCommandLine = grubCommandLine
        self.signedCommandLine = signedCommandLine
        self.forbiddenUnits = forbiddenUnits
    }

    /// The expectation for `cell`.
    public func expectation(for cell: BootCell) -> BootExpectation {
        let line = cell.firmware.isUEFI ? signedCommandLine ?? grubCommandLine : grubCommandLine
        return BootExpectation(markers: ["Kernel command line: " + line, "Reached target multi-user.target"],
                               failures: BootExpectation.knownFailures + forbiddenUnits.map { "Started \($0)" },
                               overallTimeout: overallTimeout)
    }
}

/// The outcome of one cell.
public struct BootCellResult: Sendable, Codable {
    public var cell: BootCell
    public var passed: Bool
    public var outcome: String
    public var seconds: Double
    public var log: String
    /// Missing markers or the failing line, for the table.
    public var detail: String

    public init(cell: BootCell, passed: Bool, outcome: String, seconds: Double, log: String, detail: String) {
        self.cell = cell
        self.passed = passed
        self.outcome = outcome
        self.seconds = seconds
        self.log = log
        self.detail = detail
    }
}

/// Runs cells of a boot matrix, at most `VMSlots` at a time, each with its own log.
public enum BootMatrix {
    /// Boots `image` in every cell; a cell that cannot run (firmware missing) is a failed result saying why.
    public static func run(image: URL, cells: [BootCell], check: MediumBootCheck, logDirectory: URL,
                           accelerator: Accelerator, runner: BootRunner = BootRunner(),
                           started: (@Sendable (BootCell) -> Void)? = nil,
                           finished: (@Sendable (BootCellResult) -> Void)? = nil) async -> [BootCellResult] {
        await withTaskGroup(of: (Int, BootCellResult).self) { group in
            for (index, cell) in cells.enumerated() {
                group.addTask {
                    started?(cell)
                    let result = await runCell(cell, image: image, check: check, logDirectory: logDirectory,
                                               accelerator: accelerator, runner: runner)
                    finished?(result)
                    return (index, result)
                }
            }
            var results = [BootCellResult?](repeating: nil, count: cells.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
    }

    static func runCell(_ cell: BootCell, image: URL, check: MediumBootCheck, logDirectory: URL,
                        accelerator: Accelerator, runner: BootRunner) async -> BootCellResult {
        let log = logDirectory.appendingPathComponent("\(cell).log")
        var disks: [TargetDisk] = []
        do {
            if let bus = cell.target {
                let disk = logDirectory.appendingPathComponent("\(cell)-target.img")
                try? FileManager.default.removeItem(at: disk)
                guard FileManager.default.createFile(atPath: disk.path, contents: nil) else {
                    throw BootTestError.missingInput("\(disk.path) (cannot create the target disk image)")
                }
                let handle = try FileHandle(forWritingTo: disk)
                try handle.truncate(atOffset: 16 << 30)
                try handle.close()
                disks.append(TargetDisk(image: disk, bus: bus, serial: "EMTS-TARGET-\(bus.rawValue.uppercased())"))
            }
            let spec = MachineSpec(firmware: cell.firmware, source: .medium(image: image, media: cell.media, writable: false),
                                   disks: disks)
            let result = try await runner.boot(spec, expecting: check.expectation(for: cell), accelerator: accelerator,
                                               log: log)
            let detail: String = switch result.outcome {
            case .passed: "multi-user reached with the medium's command line"
            case let .failed(line): line
            default: "missing: " + result.missing.joined(separator: "; ")
            }
            for disk in disks { try? FileManager.default.removeItem(at: disk.image) }
            return BootCellResult(cell: cell, passed: result.passed, outcome: "\(result.outcome)",
                                  seconds: Double(result.duration.components.seconds), log: log.path, detail: detail)
        } catch {
            for disk in disks { try? FileManager.default.removeItem(at: disk.image) }
            return BootCellResult(cell: cell, passed: false, outcome: "not run", seconds: 0, log: log.path,
                                  detail: "\(error)")
        }
    }
}

/// JUnit XML for CI systems: one test case per cell, its log attached as system-out path.
public enum JUnitReport {
    public static func xml(suite: String, results: [BootCellResult]) -> String {
        func escape(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&apos;"
                default:
                    // XML 1.0 forbids most control characters, even escaped.
                    if scalar.value >= 0x20 || scalar == "\n" || scalar == "\t" { out.unicodeScalars.append(scalar) }
                }
            }
            return out
        }
        let failures = results.filter { !$0.passed }.count
        let total = results.reduce(0) { $0 + $1.seconds }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuite name=\"\(escape(suite))\" tests=\"\(results.count)\" failures=\"\(failures)\" "
            + "time=\"\(String(format: "%.1f", total))\">\n"
        for result in results {
            xml += "  <testcase classname=\"boot-test\" name=\"\(escape(result.cell.description))\" "
                + "time=\"\(String(format: "%.1f", result.seconds))\">\n"
            if !result.passed {
                xml += "    <failure message=\"\(escape(result.outcome))\">\(escape(result.detail))</failure>\n"
            }
            xml += "    <system-out>log: \(escape(result.log))</system-out>\n"
            xml += "  </testcase>\n"
        }
        return xml + "</testsuite>\n"
    }
}
