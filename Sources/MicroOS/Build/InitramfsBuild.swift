import ArchiveKit
import Crypto
import Foundation
import StreamKit

/// Where the µOS comes from.
public enum MicroOSSource: Sendable, Equatable {
    /// The µOS as shipped: a kernel and an initramfs that nests the root filesystem archive.
    case initramfs(kernel: String, initramfs: String)
    /// The µOS image tarball, with the kernel and initramfs in its `boot/`.
    case tarball(String)
}

/// Everything `emts-iso build` needs to produce the edited µOS.
public struct MicroOSInputs: Sendable {
    public var source: MicroOSSource
    public var request: EditRequest
    public var options: RewriteOptions
    /// install-os as injected (its files are in `request`), for the manifest.
    public var installer: InstallerBundle.Record?
    /// install-os to inject once made: `plan` makes it while it scans the µOS.
    public var deferredInstaller: (@Sendable () throws -> InstallerBundle)?

    public init(source: MicroOSSource, request: EditRequest, options: RewriteOptions = RewriteOptions(),
                installer: InstallerBundle.Record? = nil) {
        self.source = source
        self.request = request
        self.options = options
        self.installer = installer
    }

    /// Adds install-os (executable, libraries, unit, version record) to the request.
    public mutating func inject(_ bundle: InstallerBundle) throws(InstallerBundleError) {
        try bundle.add(to: &request)
        installer = bundle.record
    }

    /// Adds install-os as `make` returns it, made by `MicroOSBuild.plan` on a second thread while it scans
    /// the µOS (reading the executable's library closure and asking it its version take a while).
    public mutating func inject(deferred make: @escaping @Sendable () throws -> InstallerBundle) {
        deferredInstaller = make
    }

    public init(kernel: String, initramfs: String, request: EditRequest, options: RewriteOptions = RewriteOptions()) {
        self.init(source: .initramfs(kernel: kernel, initramfs: initramfs), request: request, options: options)
    }
}

/// The plan of a build, computed before anything is written: shared by `--dry-run`, the manifest and tests.
public struct MicroOSPlan: Sendable {
    public var kernel: KernelInfo
    public var scan: MicroOSScan
    /// The request as planned (a deferred install-os added).
    public var request: EditRequest
    public var edits: EditPlan
    /// The kernel and initramfs the build reads (copies out of a µOS tarball, or the inputs themselves).
    public var kernelPath: String
    public var initramfsPath: String
    /// The rewrite options, with the root filesystem source resolved.
    public var options: RewriteOptions
    /// Copies taken out of a µOS tarball; `discard()` deletes them.
    public var bootFiles: UOSBootFiles?
    /// The injected install-os, with the µOS's glibc as checked against it.
    public var installer: InstallerBundle.Record?

    /// Deletes the temporary copies a tarball input needed. Call when done with the plan.
    public func discard() { bootFiles?.remove() }
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
    /// install-os as injected; absent when the medium carries none.
    public var installer: InstallerBundle.Record?
    public var plan: EditPlan
    public var rewrite: RewriteReport
    public var outputs: [OutputFile]
}

/// Builds the edited µOS (kernel + initramfs) from its inputs.
public enum MicroOSBuild {
    /// Validates the inputs and computes the edit plan. Writes nothing, except that a µOS tarball's kernel and
    /// initramfs are copied into `workDirectory` (hidden temporary files that `MicroOSPlan.discard()` removes).
    public static func plan(_ inputs: MicroOSInputs, workDirectory: String? = nil) throws -> MicroOSPlan {
        var inputs = inputs
        // Work that does not need the µOS runs while it is scanned: install-os's closure, the packages' payloads.
        let installer = inputs.deferredInstaller.map { BackgroundTask(name: "emts-installer", $0) }
        defer { installer?.wait() }
        let prefetch = inputs.request.packages.flatMap { PayloadPrefetch(directory: $0.directory) }
        defer { prefetch?.stop() }
        var options = inputs.options
        let kernelPath: String
        let initramfsPath: String
        var bootFiles: UOSBootFiles?
        switch inputs.source {
        case .initramfs(let kernel, let initramfs):
            kernelPath = kernel
            initramfsPath = initramfs
        case .tarball(let tarball):
            let directory = workDirectory ?? FileManager.default.temporaryDirectory.path
            let boot = try UOSTarball.extractBoot(from: tarball, into: directory)
            bootFiles = boot
            kernelPath = boot.kernel
            initramfsPath = boot.initramfs
            options.rootfs = .tarball(path: tarball)
        }
        do {
            let kernel = try KernelImage.inspect(path: kernelPath)
            let scan = try MicroOSRewriter.scan(initramfs: initramfsPath, options: options)
            if let installer {
                try inputs.inject(try installer.value())
                inputs.deferredInstaller = nil
            }
            let edits = try EditPlan.resolve(inputs.request, against: scan.index, prefetch: prefetch)
            var record = inputs.installer
            if let installer = record {
                record?.microOSGlibc = try InstallerBundle.checkGlibc(installer, against: scan.index)
            }
            return MicroOSPlan(kernel: kernel, scan: scan, request: inputs.request, edits: edits, kernelPath: kernelPath,
                               initramfsPath: initramfsPath, options: options, bootFiles: bootFiles,
                               installer: record)
        } catch {
            bootFiles?.remove()
            throw error
        }
    }

    /// Writes `vmlinuz`, `initramfs.img` and `manifest.json` into `directory` (created if needed). Each file
    /// appears only when complete; on failure none of this build's files is left.
    public static func writeInitramfsPair(_ inputs: MicroOSInputs, plan: MicroOSPlan, into directory: String, tool: String,
                                          progress: ((RewriteProgress) -> Void)? = nil) throws -> MicroOSManifest {
        try createOutputDirectory(directory)
        let kernelPath = "\(directory)/vmlinuz"
        let initramfsPath = "\(directory)/initramfs.img"
        let manifestPath = "\(directory)/manifest.json"
        var written: [String] = []
        do {
            let report = try MicroOSRewriter.rewrite(initramfs: plan.initramfsPath, plan: plan.edits, output: initramfsPath,
                                                     options: plan.options, splice: plan.scan.nestedSplice,
                                                     progress: progress)
            written.append(initramfsPath)
            try copyFile(plan.kernelPath, to: kernelPath)
            written.append(kernelPath)
            let manifest = MicroOSManifest(
                tool: tool, kernel: plan.kernel, request: plan.request, installer: plan.installer, plan: plan.edits,
                rewrite: report,
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
        let digest = try FileDigest.sha256(of: path)
        return OutputFile(path: name, bytes: Int64(digest.bytes), sha256: digest.sha256)
    }

    /// Creates the output directory (and its parents), with an error that names it.
    public static func createOutputDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw MicroOSError.output(path: directory, message: "cannot create the output directory: \(reason)")
        }
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
