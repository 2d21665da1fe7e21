import Foundation
import InstallMedium
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
        if json {
            emit(["event": "progress", "phase": progress.phase, "done": progress.bytesDone, "total": progress.bytesTotal]
                 as [String: any Encodable & Sendable])
        } else if interactive, progress.bytesTotal > 0 {
            let percent = Int(Double(progress.bytesDone) / Double(progress.bytesTotal) * 100)
            FileHandle.standardError.write(Data("\r\(progress.phase): \(min(percent, 100))%\u{1B}[K".utf8))
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
              + "\(megabytes(rewrite.nestedOut.bytes)) \(rewrite.nestedOut.compression.rawValue)")
        print("RAM       the booted µOS needs at least \(megabytes(rewrite.ramNeededBytes)) for its initramfs and root")
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
        print("rootfs    \(rewrite.nestedOut.entries) entries (\(rewrite.removed) removed, \(rewrite.added) added)")
        print("RAM       the booted µOS needs at least \(megabytes(rewrite.ramNeededBytes)) for its initramfs and root")
        print("manifest  \(manifest.iso.output).manifest.json")
        for warning in manifest.iso.warnings {
            FileHandle.standardError.write(Data("emts-iso: warning: \(warning)\n".utf8))
        }
    }

    func failure(_ error: any Error) {
        if json {
            emit(["event": "error", "message": "\(error)"] as [String: any Encodable & Sendable])
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        FileHandle.standardError.write(Data("emts-iso: error: \(error)\n".utf8))
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
