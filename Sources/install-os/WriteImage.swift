import ArgumentParser
import Foundation
import Glibc
import Installer

/// `install-os write-image IMAGE TARGET`: only the installer's image write (hidden; for benchmarks and tests).
///
/// The same path as an install: `OSImage` for the image and its checksum, `ImageWriter.write` for the
/// verified stream (first and last MiB zeroed first, partition table written last), `ProgressReporter` for
/// the progress lines. No medium, configuration, disk policy or boot entry: the target is whatever is named.
struct WriteImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-image",
        abstract: "For benchmarks and tests: write a compressed OS image to a block device or file as the installer does.",
        discussion: """
        Streams IMAGE (a raw disk image compressed with gzip, zstd or xz, told by its first bytes) onto TARGET \
        with the installer's image writer: hashes the compressed file on the way, checks its sha256 and writes \
        the first MiB (the partition table) only once it matched. The expected sha256 comes from --sha256, or \
        else from the checksum file next to IMAGE as on the medium (IMAGE.sha256, or NAME.sha256 for \
        NAME.raw.gz|.raw.zst|.raw.xz). TARGET is not checked against the installer's disk policy: anything \
        it holds is overwritten.

        Progress goes to standard error as timed lines; the summary (bytes written, seconds, MB/s in decimal \
        megabytes, whether the sha256 was verified) to standard output, as JSON with --json. Exit codes as \
        install-os: 1 write failed, 2 usage, 3 image or checksum file missing, 4 target missing or too small, \
        5 image verification failed.
        """,
        shouldDisplay: false)

    @Argument(help: "The compressed raw image (gzip, zstd or xz).")
    var image: String

    @Argument(help: "An existing block device or regular file; what it holds is overwritten.")
    var target: String

    @Option(help: ArgumentHelp("The sha256 of the compressed image, instead of its checksum file.", valueName: "HEX"))
    var sha256: String?

    @Flag(help: "Let a regular file smaller than the image grow to the image's size (from the image's GPT).")
    var grow = false

    @Option(help: ArgumentHelp("Seconds between progress lines on standard error; 0 for none.", valueName: "SECONDS"))
    var progressInterval: Double = 5

    @Flag(help: "Print the summary as JSON on standard output.")
    var json = false

    func validate() throws {
        if let sha256, sha256.count != 64 || !sha256.allSatisfy(\.isHexDigit) {
            throw ValidationError("--sha256 takes 64 hex digits, not \"\(sha256)\"")
        }
        guard progressInterval >= 0, progressInterval.isFinite else {
            throw ValidationError("--progress-interval takes seconds >= 0")
        }
    }

    func run() throws {
        let console = Console(json: json, consoles: [])
        do {
            let osImage = try locateImage()
            try prepareTarget(for: osImage, console: console)
            let started = ImageWriter.monotonicSeconds()
            let reporter = progressInterval > 0
                ? ProgressReporter(style: .lines(interval: progressInterval), clock: ImageWriter.monotonicSeconds) { text in
                    let elapsed = String(format: "%7.1fs", ImageWriter.monotonicSeconds() - started)
                    FileHandle.standardError.write(Data("[\(elapsed)] \(text)\n".utf8))
                }
                : nil
            let report: ImageWriteReport
            do throws(ImageWriteError) {
                report = try ImageWriter().write(osImage, to: target) { reporter?.update($0) }
            } catch {
                throw InstallError.write(error)
            }
            for warning in report.warnings { console.line("warning: \(warning)", level: .warning) }
            let summary = Summary(image: image, target: target, bytesWritten: report.bytesWritten,
                                  seconds: report.seconds,
                                  megabytesPerSecond: report.bytesPerSecond / 1e6,
                                  verified: report.sha256 == osImage.expectedSHA256)
            if json {
                console.printJSON(summary)
            } else {
                console.print(summary.text(osImage, report: report))
            }
        } catch let error as Refusal {
            try fail(error.message, code: error.code, console: console)
        } catch let error as InstallError {
            try fail(error.description, code: error.exitCode, console: console)
        }
    }

    /// The image with its expected sha256: `--sha256` with the compression its first bytes show, or else as
    /// the installer finds it on the medium (`OSImage.find`: name, checksum file, first bytes).
    private func locateImage() throws -> OSImage {
        let url = URL(fileURLWithPath: image)
        let name = url.lastPathComponent
        var info = stat()
        guard stat(image, &info) == 0 else {
            throw InstallError.medium(.imageUnreadable(path: image, reason: String(cString: strerror(errno))))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw InstallError.medium(.imageUnreadable(path: image, reason: "not a regular file"))
        }
        guard let sha256 else {
            guard ImageCompression(fileName: name) != nil else {
                throw ValidationError("""
                    \(image) is not named NAME.raw.gz, .raw.zst or .raw.xz as on the medium, so it has no known \
                    checksum file: give --sha256
                    """)
            }
            do throws(BootMediumError) {
                return try OSImage.find(in: url.deletingLastPathComponent().path, named: name)
            } catch {
                throw InstallError.medium(error)
            }
        }
        let magic = (try? FileHandle(forReadingFrom: url)).flatMap { handle in
            defer { try? handle.close() }
            return try? handle.read(upToCount: 6)
        }
        guard let magic, !magic.isEmpty else {
            throw InstallError.image(.empty(path: image))
        }
        guard let compression = ImageCompression(magic: Array(magic)) else {
            if let named = ImageCompression(fileName: name) {
                throw InstallError.image(.compressionMismatch(path: image, expected: named, found: "not gzip, zstd or xz"))
            }
            throw InstallError.medium(.imageUnreadable(path: image, reason: "its first bytes are not gzip, zstd or xz"))
        }
        return OSImage(name: name, path: image, compression: compression, compressedBytes: UInt64(info.st_size),
                       expectedSHA256: sha256.lowercased(), checksumPath: "--sha256")
    }

    /// Checks that the target exists, is a block device or regular file, and holds the image (its GPT says
    /// how large it is); grows a regular file to that size with `--grow`. Refuses before anything is written.
    private func prepareTarget(for osImage: OSImage, console: Console) throws {
        var info = stat()
        guard stat(target, &info) == 0 else {
            throw Refusal(target, "cannot use it: \(String(cString: strerror(errno)))", code: .noTarget)
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFBLK || type == S_IFREG else {
            throw Refusal(target, "not a block device or regular file", code: .noTarget)
        }
        let layout: ImageLayout?
        do throws(ImageError) {
            layout = try ImageLayout.read(osImage)
        } catch {
            throw InstallError.image(error)
        }
        guard let required = layout?.requiredBytes else {
            console.line("warning: \(image) has no GPT in its first MiB: its size is not known before writing"
                + (grow ? ", so --grow cannot size \(target)" : ""), level: .warning)
            return
        }
        let capacity = try Self.capacity(of: target, isBlockDevice: type == S_IFBLK)
        guard capacity < required else { return }
        guard type == S_IFREG, grow else {
            throw Refusal(target, "holds \(capacity) bytes, the image needs \(required) (\(HumanUnits.bytes(required)))"
                + (type == S_IFREG ? "; --grow lets the file grow" : ""), code: .noTarget)
        }
        guard truncate(target, off_t(required)) == 0 else {
            throw Refusal(target, "cannot grow it to \(required) bytes: \(String(cString: strerror(errno)))",
                          code: .installFailed)
        }
        console.line("grew \(target) from \(capacity) to \(required) bytes", level: .warning)
    }

    /// A regular file's length or a block device's size.
    private static func capacity(of path: String, isBlockDevice: Bool) throws -> UInt64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Refusal(path, "cannot open it: \(String(cString: strerror(errno)))", code: .noTarget)
        }
        defer { close(descriptor) }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else {
            throw Refusal(path, "cannot measure it: \(String(cString: strerror(errno)))", code: .noTarget)
        }
        return UInt64(end)
    }

    private func fail(_ message: String, code: InstallerExitCode, console: Console) throws -> Never {
        console.line(message, level: .error)
        if json { console.printJSON(Failure(error: message, exitCode: code.rawValue)) }
        throw ExitCode(code.rawValue)
    }
}

/// A target refused before anything was written.
private struct Refusal: Error {
    var message: String
    var code: InstallerExitCode

    init(_ path: String, _ reason: String, code: InstallerExitCode) {
        message = "\(path): \(reason)"
        self.code = code
    }
}

/// The `--json` summary.
private struct Summary: Encodable {
    var image: String
    var target: String
    var bytesWritten: UInt64
    var seconds: Double
    var megabytesPerSecond: Double
    var verified: Bool

    func text(_ osImage: OSImage, report: ImageWriteReport) -> String {
        """
        image:           \(image) (\(osImage.compression.rawValue), \(osImage.compressedBytes) bytes)
        target:          \(target)
        bytes written:   \(bytesWritten) (\(HumanUnits.bytes(bytesWritten)))
        seconds:         \(String(format: "%.3f", seconds))
        MB/s:            \(String(format: "%.1f", megabytesPerSecond))
        sha256 verified: \(verified ? "yes" : "no") (\(report.sha256))
        """
    }
}

/// The `--json` document of a failed write.
private struct Failure: Encodable {
    var error: String
    var exitCode: Int32
}
