import DiskKit
import Foundation
import HybridISO
import MicroOS
import StreamKit

/// `emts-iso verify`: checks a medium against the mission's rules and its manifest. Each check has a stable
/// name (for scripts and CI logs) and says what it found.
public struct MediumVerification: Codable, Sendable {
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    /// The commands the injected packages must provide in the µOS (efibootmgr, gawk, lvm2, net-tools, parted),
    /// found in any of the usual command directories (Debian puts efibootmgr in /bin, EMT in /usr/sbin).
    public static let requiredCommands = ["efibootmgr", "gawk", "lvm", "netstat", "parted"]
    static let commandDirectories = ["usr/sbin", "usr/bin", "sbin", "bin"]

    public var path: String
    public var checks: [Check]
    public var passed: Bool { checks.allSatisfy(\.passed) }
    public var failed: [Check] { checks.filter { !$0.passed } }

    /// Runs every check on `medium`; a check that cannot run fails with the reason.
    public init(_ medium: MediumImage, progress: ((String) -> Void)? = nil) {
        path = medium.path
        var checks: [Check] = []
        func check(_ name: String, _ body: () throws -> (Bool, String)) {
            progress?(name)
            do {
                let (passed, detail) = try body()
                checks.append(Check(name: name, passed: passed, detail: detail))
            } catch {
                checks.append(Check(name: name, passed: false, detail: "\(error)"))
            }
        }

        check("el-torito") {
            let entries = try medium.elTorito()
            let bios = entries.first { $0.platform == .bios }
            let uefi = entries.first { $0.platform == .efi }
            let biosOK = bios.map { $0.bootable && $0.patches.contains(.bootInfoTable) && $0.patches.contains(.grub2BootInfo) }
            let uefiOK = uefi.map { $0.bootable && $0.imagePath == nil }
            return (biosOK == true && uefiOK == true,
                    "BIOS entry \(biosOK.map { $0 ? "ok" : "without boot info table" } ?? "missing"), "
                    + "UEFI entry \(uefiOK.map { $0 ? "ok (appended ESP)" : "not the appended ESP" } ?? "missing")")
        }
        check("partition-tables") {
            let (mbr, gpt) = try medium.partitions()
            var problems: [String] = []
            if !mbr.contains(where: \.active) { problems.append("no active MBR entry") }
            if !mbr.contains(where: { $0.type == "ee" }) { problems.append("no protective (0xEE) MBR entry") }
            let esp = gpt.first { $0.number == 2 }
            if esp?.type != "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" { problems.append("GPT partition 2 is not an EFI system partition") }
            if !gpt.contains(where: { $0.number == 3 }) { problems.append("no GPT partition 3 (config)") }
            if let beyond = (mbr + gpt).first(where: { $0.startBytes + $0.sizeBytes > medium.bytes }) {
                problems.append("\(beyond.table) partition \(beyond.number) ends beyond the image")
            }
            problems += try DiskDevice.gptProblems(at: medium.path).map { "libparted: \($0)" }
            return (problems.isEmpty, problems.isEmpty ? "hybrid MBR with active entry, GPT with ESP and config partition"
                                                       : problems.joined(separator: "; "))
        }
        check("uefi-boot-path") {
            let files = try medium.espFiles()
            return (files.contains("EFI/BOOT/BOOTX64.EFI"),
                    files.contains("EFI/BOOT/BOOTX64.EFI") ? "EFI/BOOT/BOOTX64.EFI present (secure boot: "
                        + "\(MediumReport.secureBootMode(espFiles: files)))" : "EFI/BOOT/BOOTX64.EFI missing from the ESP")
        }
        check("kernel-arguments") {
            let lines = try medium.kernelCommandLines()
            guard let first = lines.first else { return (false, "no kargs area") }
            if let other = lines.first(where: { $0.commandLine != first.commandLine }) {
                return (false, "\(other.path) differs from \(first.path)")
            }
            try KernelArguments.validate(commandLine: first.commandLine)
            return (true, first.commandLine)
        }

        var facts: MicroOSFacts?
        var scan: MicroOSScan?
        check("microos-readable") {
            let scanned = try medium.microOS()
            scan = scanned
            facts = MicroOSFacts(scan: scanned)
            return (true, "\(scanned.nested.entries) entries in the nested root filesystem")
        }
        if let facts, let scan {
            check("agents-disabled") {
                let agents = EditRequest.agentUnits.map { ($0, facts.units[$0] ?? .absent) }
                let live = agents.filter { $0.1 == .enabled || $0.1 == .disabled }
                return (live.isEmpty, agents.map { "\($0.0) \($0.1.rawValue)" }.joined(separator: ", "))
            }
            check("packages-present") {
                let found = Self.requiredCommands.map { command in
                    (command, Self.commandDirectories.lazy.map { "\($0)/\(command)" }.first { path in
                        (try? scan.index.resolve(path)).flatMap { scan.index.node(at: $0) } != nil
                    })
                }
                let missing = found.filter { $0.1 == nil }.map(\.0)
                return (missing.isEmpty, missing.isEmpty ? found.map { "/" + ($0.1 ?? $0.0) }.joined(separator: ", ")
                                                         : "missing: " + missing.joined(separator: ", "))
            }
            check("install-os-enabled") {
                let state = facts.units[MicroOSFacts.installerUnit] ?? .absent
                return (facts.installerPresent && state == .enabled,
                        "\(MicroOSFacts.installerBinary) \(facts.installerPresent ? "present" : "missing"), "
                        + "\(MicroOSFacts.installerUnit) \(state.rawValue)")
            }
        }
        check("payload-sha256") {
            let payloads = try medium.payloads()
            var problems: [String] = []
            for payload in payloads {
                guard let stated = payload.statedSHA256 else {
                    problems.append("\(payload.path) has no .sha256")
                    continue
                }
                let actual = try medium.digest(payload)
                if actual != stated { problems.append("\(payload.path): sha256 \(actual), its .sha256 says \(stated)") }
            }
            return (problems.isEmpty, problems.isEmpty ? "\(payloads.count) image(s) match their sha256"
                                                       : problems.joined(separator: "; "))
        }
        check("manifest") {
            guard let manifest = try medium.manifest() else { return (true, "no manifest beside the ISO; skipped") }
            let digest = try FileDigest.sha256(of: medium.path).sha256
            guard digest == manifest.output.sha256 else {
                return (false, "sha256 \(digest) differs from the manifest's \(manifest.output.sha256) "
                        + "(changed since it was built; `kargs reset` undoes a kargs edit)")
            }
            return (true, "sha256 matches the manifest")
        }
        self.checks = checks
    }
}
