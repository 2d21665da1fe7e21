import Foundation
import InstallMedium
import BootTest
import HybridISO
import Installer
import MicroOS

/// Everything the CLI tells its user: plain text (progress on standard error) or, with `--json`, one JSON object
/// per line on standard output.
struct Console {
    let json: Bool
    private let interactive = isatty(STDERR_FILENO) == 1

    init(json: Bool) { self.json = json }

    func plan(_ plan: MicroOSPlan) {
        if json {
            emit(["event": "plan", "kernel": plan.kernel, "plan": plan.edits] as [String: any Encodable & Sendable])
            return
        }
        print("kernel    \(plan.kernel.release) (boot protocol \(plan.kernel.bootProtocolString))")
        let nested = plan.scan.nested
        print("rootfs    \(nested.path): \(nested.compression.rawValue), \(nested.entries) entries, "
              + "\(megabytes(nested.unpackedBytes)) unpacked")
        print(plan.edits.description)
    }

    func progress(_ progress: RewriteProgress) {
        bytesProgress(progress.phase, progress.bytesDone, progress.bytesTotal)
    }

    /// Progress of a long step: a `progress` event, or a percentage redrawn on a terminal.
    func bytesProgress<Count: BinaryInteger>(_ phase: String, _ done: Count, _ total: Count) {
        if json {
            emit(["event": "progress", "phase": phase, "done": Int64(done), "total": Int64(total)]
                 as [String: any Encodable & Sendable])
        } else if interactive, total > 0 {
            let percent = Int(Double(done) / Double(total) * 100)
            FileHandle.standardError.write(Data("\r\(phase): \(min(percent, 100))%\u{1B}[K".utf8))
        }
    }

    func done(_ manifest: MicroOSManifest, directory: String) {
        if json {
            emit(["event": "done", "directory": directory, "manifest": manifest] as [String: any Encodable & Sendable])
            return
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let rewrite = manifest.rewrite
        print("initramfs \(directory)/initramfs.img (\(megabytes(rewrite.outputBytes)), \(rewrite.outerCompression.rawValue))")
        print("kernel    \(directory)/vmlinuz (\(manifest.kernel.release))")
        print("rootfs    \(rewrite.nestedOut.entries) entries (\(rewrite.removed) removed, \(rewrite.added) added), "
              + "\(megabytes(rewrite.nestedOut.bytes)) \(rewrite.nestedOut.compression.rawValue)\(spliced(rewrite))")
        print("RAM       the booted µOS needs at least \(megabytes(rewrite.ramNeededBytes)) for its initramfs and root")
        if !manifest.plan.packages.isEmpty {
            print("packages  \(manifest.plan.packages.packages.count) injected, \(manifest.plan.packages.skipped.count) already present (maintainer scripts not run)")
        }
        print("manifest  \(directory)/manifest.json")
    }

    func done(_ manifest: InstallMediumManifest) {
        if json {
            emit(["event": "done", "iso": manifest.iso.output, "manifest": manifest] as [String: any Encodable & Sendable])
            return
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let rewrite = manifest.microOS.rewrite
        print("ISO       \(manifest.iso.output) (\(megabytes(Int64(manifest.iso.bytes))), sha256 \(manifest.output.sha256))")
        let secureBoot = manifest.iso.secureBoot == "none" ? "Secure Boot off" : "Secure Boot: \(manifest.iso.secureBoot)"
        print("boots     BIOS and UEFI (\(secureBoot)), CD and USB stick; build id \(manifest.iso.buildID)")
        print("cmdline   \(manifest.iso.commandLine)")
        print("rootfs    \(rewrite.nestedOut.entries) entries (\(rewrite.removed) removed, \(rewrite.added) added)"
              + spliced(rewrite))
        print("RAM       the booted µOS needs at least \(megabytes(rewrite.ramNeededBytes)) for its initramfs and root")
        print("manifest  \(manifest.iso.output).manifest.json")
        for warning in manifest.iso.warnings {
            FileHandle.standardError.write(Data("emts-iso: warning: \(warning)\n".utf8))
        }
    }

    /// ", spliced (N MB compressed)" when the nested archive's unchanged blocks were copied as they were.
    private func spliced(_ rewrite: RewriteReport) -> String {
        guard let splice = rewrite.splice else { return "" }
        return "; spliced: original blocks copied, \(megabytes(splice.bytesDeflated)) compressed"
    }

    /// A step of a long check, shown on a terminal only.
    func step(_ text: String) {
        guard !json, interactive else { return }
        FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
    }

    func inspect(_ report: MediumReport) {
        if json {
            emitObject(report)
            return
        }
        print("ISO        \(report.path) (\(megabytes(Int64(report.bytes))))")
        print("volume     \(report.volumeID), build id \(report.buildID ?? "none")")
        print("secure     \(report.secureBoot == "none" ? "Secure Boot off (unsigned GRUB)" : "Secure Boot: \(report.secureBoot)")")
        for entry in report.elTorito {
            let patches = [entry.bootInfoTable ? "boot-info-table" : nil, entry.grub2BootInfo ? "grub2-boot-info" : nil]
                .compactMap { $0 }.joined(separator: " ")
            print("El Torito  \(entry.platform) \(entry.bootable ? "bootable" : "not bootable") \(entry.image) "
                  + "load \(entry.loadSectors)\(patches.isEmpty ? "" : " " + patches)")
        }
        for partition in report.mbr {
            print("MBR \(partition.number)      type 0x\(partition.type)\(partition.active ? " active" : "") "
                  + "start \(partition.startBytes) size \(partition.sizeBytes)")
        }
        for partition in report.gpt {
            print("GPT \(partition.number)      \(partition.type) \(partition.name ?? "") "
                  + "start \(partition.startBytes) size \(partition.sizeBytes)")
        }
        let kargs = report.kernelArguments
        print("cmdline    \(kargs.current)\(kargs.modified ? " (modified; built with: \(kargs.original))" : "")")
        if let signed = kargs.signedImage { print("           UEFI: signed into \(signed); only a rebuild changes it") }
        let facts = report.microOS
        print("µOS        \(facts.nestedEntries) entries (\(facts.nestedCompression)); masked: "
              + (facts.masked.isEmpty ? "none" : facts.masked.joined(separator: ", ")))
        for (unit, state) in facts.units.sorted(by: { $0.key < $1.key }) { print("unit       \(unit) \(state.rawValue)") }
        print("install-os \(facts.installerPresent ? "present" : "absent")\(facts.installerVersion.map { " \($0)" } ?? "")"
              + (facts.installerConfigText == nil ? "" : ", config embedded"))
        if let packages = facts.packagesRecordText { print("packages   \(packages.trimmingCharacters(in: .whitespacesAndNewlines))") }
        print("config     partition 3: " + (report.configPartitionFiles.isEmpty ? "empty" : report.configPartitionFiles.joined(separator: ", ")))
        for payload in report.payloads {
            print("image      \(payload.path) (\(megabytes(Int64(payload.bytes)))) sha256 \(payload.statedSHA256 ?? "unknown")")
        }
        if let manifest = report.manifest {
            print("manifest   built by \(manifest.tool), sha256 \(manifest.output.sha256)")
        }
    }

    func verification(_ verification: MediumVerification) {
        if interactive, !json { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if json {
            emitObject(verification)
            return
        }
        for check in verification.checks {
            print("\(check.passed ? "ok  " : "FAIL") \(check.name): \(check.detail)")
        }
        let failed = verification.failed
        print(failed.isEmpty ? "\(verification.path): all \(verification.checks.count) checks passed"
                             : "\(verification.path): \(failed.count) check(s) failed: " + failed.map(\.name).joined(separator: ", "))
    }

    func kargs(_ line: String, map: KargsMap) {
        if json {
            emitObject(["current": line, "original": map.defaultCommandLine])
            return
        }
        print(line)
    }

    /// A remark on standard error (human mode) or a `note` event.
    func note(_ text: String) {
        if json {
            emit(["event": "note", "message": text] as [String: any Encodable & Sendable])
        } else {
            FileHandle.standardError.write(Data("emts-iso: \(text)\n".utf8))
        }
    }

    /// One boot-test cell as it finishes.
    func cell(_ result: BootCellResult) {
        if json {
            emitObject(["event": "cell", "cell": result.cell.description, "passed": result.passed ? "true" : "false",
                        "outcome": result.outcome, "seconds": String(result.seconds), "log": result.log])
        } else {
            FileHandle.standardError.write(Data("\(result.passed ? "pass" : "FAIL") \(result.cell) (\(Int(result.seconds)) s)\n".utf8))
        }
    }

    func bootTable(_ results: [BootCellResult]) {
        if json {
            emitObject(["event": "done", "passed": String(results.allSatisfy(\.passed)), "cells": String(results.count)])
            return
        }
        let width = max(4, results.map(\.cell.description.count).max() ?? 4)
        print("cell".padding(toLength: width, withPad: " ", startingAt: 0) + "  result  time   detail")
        for result in results {
            print(result.cell.description.padding(toLength: width, withPad: " ", startingAt: 0)
                  + "  \(result.passed ? "pass  " : "FAIL  ")  \(String(format: "%4d s", Int(result.seconds)))  \(result.detail)")
        }
        let failed = results.filter { !$0.passed }.count
        print(failed == 0 ? "all \(results.count) cells passed" : "\(failed) of \(results.count) cells failed")
    }

    func flashed(_ report: FlashReport) {
        if json {
            emitObject(report)
            return
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print("written   \(report.target): \(megabytes(Int64(report.bytes))) in \(String(format: "%.1f", report.seconds)) s")
        print("verified  read back sha256 \(report.readBackSHA256) equals the ISO's")
        print("config    the stick's partition 3 (FAT, label EMTS-CONFIG) holds installer.yaml: edit it on any "
              + "computer, or with: emts-iso config set \(report.target) FILE")
    }

    func failure(_ error: any Error) {
        if json {
            emit(["event": "error", "message": "\(error)"] as [String: any Encodable & Sendable])
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        FileHandle.standardError.write(Data("emts-iso: error: \(error)\n".utf8))
    }

    /// One encodable value as a JSON line.
    private func emitObject(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    private func emit(_ object: [String: any Encodable & Sendable]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let wrapped = object.mapValues { AnyEncodable($0) }
        guard let data = try? encoder.encode(wrapped) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    private func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}

private struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
