import ArgumentParser
import Foundation
import InstallMedium
import Installer

/// `emts-iso flash ISO DEVICE`: writes the medium to a USB stick, safely, and checks what landed there.
struct Flash: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an EMT-S ISO to a USB stick (or an image file) and verify it by reading it back.",
        discussion: """
        Refuses anything but a whole removable or USB disk (--force allows an internal one), a disk with a \
        mounted partition, the disk holding /, one in use by LVM/RAID/swap, and one smaller than the ISO. Shows \
        the device and what it holds now and asks before erasing it (--yes for scripts). Needs root for a device.
        Exit codes: 0 written and verified, 1 refused or failed (the message names the device and the reason).
        """)

    @Argument(help: "The EMT-S ISO.")
    var iso: String

    @Argument(help: "The whole stick (/dev/sdX, /dev/disk/by-id/usb-...), or an image file path.")
    var device: String

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Allow a disk that is neither removable nor on USB.")
    var force = false

    @Flag(help: "JSON lines output.")
    var json = false

    @Option(help: .hidden) var sysfsRoot: String = "/sys"
    @Option(help: .hidden) var devRoot: String = "/dev"
    @Option(help: .hidden) var procRoot: String = "/proc"

    func run() async throws {
        let console = Console(json: json)
        let flasher = StickFlasher(paths: HostPaths(sysfs: sysfsRoot, dev: devRoot, proc: procRoot))
        do {
            let medium = try MediumImage(path: iso)
            let target = try flasher.target(device, imageBytes: medium.bytes, force: force)
            console.note("\(iso) (\(medium.bytes) bytes, build \(medium.buildID ?? "unknown")) -> \(target.path): "
                         + "\(target.summary); it holds: \(flasher.currentContents(of: target))")
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else {
                    throw FlashError(path: device, reason: "not confirmed: standard input is not a terminal (use --yes)")
                }
                FileHandle.standardError.write(Data("Erase \(target.path) and write \(iso) to it? Type yes: ".utf8))
                guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
                    throw FlashError(path: device, reason: "not confirmed; nothing was written")
                }
            }
            let report = try flasher.flash(iso, to: target) { done, total in console.bytesProgress("writing", done, total) }
            guard report.verified else {
                throw FlashError(path: target.path, reason: "read back sha256 \(report.readBackSHA256) differs from the "
                                 + "ISO's \(report.sha256): the stick is faulty or was changed while writing")
            }
            console.flashed(report)
        } catch {
            console.failure(error)
            throw ExitCode.failure
        }
    }
}
