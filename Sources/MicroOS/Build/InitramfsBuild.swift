import ArchiveKit
import Crypto
import Foundation

/// Everything `emts-iso build` needs to produce the edited µOS.
public struct MicroOSInputs: Sendable {
    public var kernel: String
    public var initramfs: String
    public var request: EditRequest
    public var options: RewriteOptions

    public init(kernel: String, initramfs: String, request: EditRequest, options: RewriteOptions = RewriteOptions()) {
        self.kernel = kernel
        self.initramfs = initramfs
        self.request = request
        self.options = options
    }
}

/// The plan of a build, computed before anything is written: shared by `--dry-run`, the manifest and tests.
public struct MicroOSPlan: Sendable {
    public var kernel: KernelInfo
    public var scan: MicroOSScan
    public var edits: EditPlan
}

/// An output file with its digest, as the manifest lists it.
public struct OutputFile: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: Int64
    public var sha256: String
}

/// The record of a build, written next to its outputs as `manifest.json`.
public struct MicroOSManifest: Codable, Sendable, Equatable {
    public var tool: String
    public var kernel: KernelInfo
    public var request: EditRequest
    public var plan: EditPlan
    public var rewrite: RewriteReport
    public var outputs: [OutputFile]
}

/// Builds the edited µOS (kernel + initramfs) from its inputs.
public enum MicroOSBuild {
    /// Validates the inputs and computes the edit plan, writing nothing.
    public static func plan(_ inputs: MicroOSInputs) throws -> MicroOSPlan {
        let kernel = try KernelImage.inspect(path: inputs.kernel)
        let scan = try MicroOSRewriter.scan(initramfs: inputs.initramfs, options: inputs.options)
        let edits = try EditPlan.resolve(inputs.request, against: scan.index)
        return MicroOSPlan(kernel: kernel, scan: scan, edits: edits)
    }

    /// Writes `vmlinuz`, `initramfs.img` and `manifest.json` into `directory` (created if needed). Each file
    /// appears only when complete; on failure none of this build's files is left.
    public static func writeInitramfsPair(_ inputs: MicroOSInputs, plan: MicroOSPlan, into directory: String, tool: String,
                                          progress: ((RewriteProgress) -> Void)? = nil) throws -> MicroOSManifest {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let kernelPath = "\(directory)/vmlinuz"
        let initramfsPath = "\(directory)/initramfs.img"
        let manifestPath = "\(directory)/manifest.json"
        var written: [String] = []
        do {
            let report = try MicroOSRewriter.rewrite(initramfs: inputs.initramfs, plan: plan.edits, output: initramfsPath,
                                                     options: inputs.options, progress: progress)
            written.append(initramfsPath)
            try copyFile(inputs.kernel, to: kernelPath)
            written.append(kernelPath)
            let manifest = MicroOSManifest(
                tool: tool, kernel: plan.kernel, request: inputs.request, plan: plan.edits, rewrite: report,
                outputs: [try describe(kernelPath, as: "vmlinuz"), try describe(initramfsPath, as: "initramfs.img")])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let output = try TemporaryOutput(for: manifestPath)
            try (try encoder.encode(manifest) + Data("\n".utf8)).withUnsafeBytes { try output.file.write($0) }
            try output.commit()
            return manifest
        } catch {
            for path in written { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
    }

    /// SHA-256 and size of a file, streamed.
    public static func describe(_ path: String, as name: String) throws -> OutputFile {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileStreamError(path: path, operation: "reading", errno: ENOENT)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var bytes: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            bytes += Int64(chunk.count)
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return OutputFile(path: name, bytes: bytes, sha256: digest)
    }

    private static func copyFile(_ source: String, to destination: String) throws {
        guard let input = FileHandle(forReadingAtPath: source) else {
            throw FileStreamError(path: source, operation: "reading", errno: ENOENT)
        }
        defer { try? input.close() }
        let output = try TemporaryOutput(for: destination)
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            try chunk.withUnsafeBytes { try output.file.write($0) }
        }
        try output.commit()
    }
}
