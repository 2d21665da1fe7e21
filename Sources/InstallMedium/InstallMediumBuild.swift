import Crypto
import Foundation
import HybridISO
import MicroOS
import StreamKit

/// The record of a whole build, written next to the ISO as `<iso>.manifest.json`.
public struct InstallMediumManifest: Codable, Sendable, Equatable {
    public var tool: String
    public var microOS: MicroOSManifest
    public var iso: HybridISOReport
    public var output: OutputFile
}

/// `emts-iso build -o`: the edited µOS, then the hybrid ISO around it.
public enum InstallMediumBuild {
    /// Where the µOS carries the installer config given with `--installer-config` (install-os reads it; the
    /// copy on the medium's config partition overrides it).
    public static let embeddedInstallerConfig = "/etc/emts/installer.yaml"

    /// Builds the ISO at `output` from `inputs`; a hidden work directory beside `output` holds the edited µOS
    /// until the ISO is written and is removed whatever happens. The ISO and its manifest appear only when
    /// complete.
    public static func build(_ inputs: MicroOSInputs, kernelArguments: KernelArguments, installerConfig: String?,
                             osImage: String? = nil, userApps: String? = nil, secureBoot: SecureBootMode = .none,
                             epoch: Int64,
                             output: String, tool: String,
                             progress: ((RewriteProgress) -> Void)? = nil) throws -> InstallMediumManifest {
        try secureBoot.preflight()
        let url = URL(fileURLWithPath: output)
        let directory = url.deletingLastPathComponent().path
        try MicroOSBuild.createOutputDirectory(directory)
        let work = "\(directory)/.\(url.lastPathComponent).work-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        try MicroOSBuild.createOutputDirectory(work)

        let plan = try MicroOSBuild.plan(inputs, workDirectory: work)
        defer { plan.discard() }
        let microOS = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: work, tool: tool, progress: progress)

        // Same inputs, same epoch: same build id, so reproducible builds stay byte-identical.
        var hasher = SHA256()
        for file in microOS.outputs { hasher.update(data: Data(file.sha256.utf8)) }
        hasher.update(data: Data("\(kernelArguments.commandLine)|\(epoch)|\(secureBoot.name)".utf8))
        let buildID = hasher.finalize().prefix(6).map { String(format: "%02x", $0) }.joined()

        let iso = try HybridISOBuild.write(
            HybridISOInputs(kernel: "\(work)/vmlinuz", initramfs: "\(work)/initramfs.img", arguments: kernelArguments,
                            installerConfig: installerConfig, osImage: osImage, userApps: userApps, buildID: buildID,
                            epoch: epoch,
                            secureBoot: secureBoot),
            to: output)
        let manifest = InstallMediumManifest(tool: tool, microOS: microOS, iso: iso,
                                             output: try MicroOSBuild.describe(output, as: url.lastPathComponent))
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let text = try encoder.encode(manifest) + Data("\n".utf8)
            let file = try TemporaryOutput(for: output + ".manifest.json")
            try text.withUnsafeBytes { try file.file.write($0) }
            try file.commit()
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            throw error
        }
        return manifest
    }
}
