import BootTest
import Foundation
import HybridISO
import InstallMedium
import MicroOS
import Synchronization
import StreamKit
import Testing

/// The whole install under OVMF: boot the ISO (with install-os, the packages it needs and an EMT-like OS image
/// from `Fixtures/make-os-image.sh`), let install-os write the image to the empty target disk, verify it, set
/// the boot entry and reboot; then boot the machine again with the medium gone, keeping its UEFI variables, and
/// see the installed OS come up from the target.
@Suite struct InstallBoots {
    /// A medium attachment and a target bus, with a bystander disk that must not change.
    struct Case: Sendable, CustomTestStringConvertible {
        var media: MediaKind
        var target: DiskBus
        /// A second eligible-looking disk on another bus that auto must not choose.
        var bystander: DiskBus?
        var testDescription: String {
            "\(media.rawValue) medium, \(target.rawValue) target" + (bystander.map { ", \($0.rawValue) bystander" } ?? "")
        }
    }

    static let cases: [Case] = [
        Case(media: .cd, target: .nvme, bystander: .sata),
        Case(media: .cd, target: .sata, bystander: nil),
        Case(media: .cd, target: .virtio, bystander: nil),
        Case(media: .usb, target: .nvme, bystander: .virtio),
    ]

    /// What the installed OS prints when it is up (see Fixtures/os-image/).
    static let installedMarker = "EMTS-OS-BOOTED hostname=emt-installed"

    /// `emts-iso verify` passes every check on a complete medium, install-os-enabled included.
    @Test func completeMediumVerifies() async throws {
        let medium = try await InstallMediumFixture.shared()
        let verification = try await offloaded { MediumVerification(try MediumImage(path: medium.iso.path)) }
        #expect(verification.passed, "\(verification.checks.filter { !$0.passed })")
        let installer = try #require(medium.manifest.microOS.installer)
        #expect(installer.libraries.contains { $0.name == "libarchive.so.13" })
        #expect(installer.requiredGlibc != nil)
    }

    @Test("install-os installs the OS image and the machine boots it", arguments: cases)
    func installsAndBoots(_ installCase: Case) async throws {
        let medium = try await InstallMediumFixture.shared()
        let work = TestBed.logDirectory.appendingPathComponent("install-\(installCase.media.rawValue)-\(installCase.target.rawValue)")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

        // An empty 2 GiB target (sparse), and a bystander full of a known pattern.
        let target = work.appendingPathComponent("target.img")
        try makeSparseFile(target, bytes: 2 << 30)
        var disks = [TargetDisk(image: target, bus: installCase.target, serial: "EMTS-TARGET")]
        var bystanderDigest: String?
        let bystander = work.appendingPathComponent("bystander.img")
        if let bus = installCase.bystander {
            try makePatternFile(bystander, bytes: 3 << 30 / 2)
            bystanderDigest = try sha256(of: bystander)
            disks.append(TargetDisk(image: bystander, bus: bus, serial: "EMTS-BYSTANDER"))
        }

        let vars = work.appendingPathComponent("OVMF_VARS.fd")
        let accel = await AcceleratorChoice.resolve(probeKernel: medium.kernel)
        let install = try await BootRunner().boot(
            MachineSpec(firmware: .uefi, source: .medium(image: medium.iso, media: installCase.media, writable: false),
                        disks: disks, variableStore: vars),
            expecting: .installRun(["EMT-S is installed on /dev/", "UEFI boot entry", "reboot: Restarting system"],
                                   alsoFailing: ["EMTS-AGENT-STARTED"]),
            accelerator: accel.accelerator, log: work.appendingPathComponent("install.log"))
        print("install (\(installCase.testDescription)): \(install.summary)")
        #expect(install.passed, "\(install.summary)")
        guard install.passed else { return }
        let transcript = try consoleText(install.log)
        #expect(transcript.contains("sha256 verified"))
        if installCase.media == .usb {
            // A stick has the writable config partition: the log is saved there.
            #expect(transcript.contains("log saved to /dev/"))
        }

        let booted = try await BootRunner().boot(
            MachineSpec(firmware: .uefi, source: .disks, disks: [disks[0]], variableStore: vars),
            expecting: BootExpectation(markers: ["EMTS-OS-BOOTENTRY", Self.installedMarker],
                                       failures: BootExpectation.knownFailures + ["EMTS-OS-INITRD-ERROR"]),
            accelerator: accel.accelerator, log: work.appendingPathComponent("installed.log"))
        print("installed OS (\(installCase.testDescription)): \(booted.summary)")
        #expect(booted.passed, "\(booted.summary)")
        // The firmware started the entry install-os created, not its fallback to the removable path.
        let entryLine = try consoleText(booted.log).split(whereSeparator: \.isNewline)
            .first { $0.contains("EMTS-OS-BOOTENTRY") }?.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(entryLine?.hasSuffix(" EMT-S") == true, "booted through \(entryLine ?? "no entry")")

        if let bystanderDigest {
            #expect(try sha256(of: bystander) == bystanderDigest, "the bystander disk changed")
        }
        try? FileManager.default.removeItem(at: target)
        try? FileManager.default.removeItem(at: bystander)
    }
}

/// The medium every install test boots: the test bed µOS with install-os, the packages it runs (efibootmgr...)
/// and the OS image; built once per test process.
struct InstallMediumFixture: Sendable {
    let iso: URL
    let kernel: URL
    let manifest: InstallMediumManifest

    private static let built = Mutex<Result<InstallMediumFixture, TestBedError>?>(nil)

    static func shared() async throws -> InstallMediumFixture {
        try await offloaded {
            try built.withLock { cached in
                if cached == nil {
                    cached = Result { try build() }.mapError { $0 as? TestBedError ?? .build("\($0)") }
                }
                return try cached!.get()
            }
        }
    }

    /// The install-os of this build (beside the test runner), or `EMTS_INSTALL_OS`.
    static var installerExecutable: String {
        if let path = ProcessInfo.processInfo.environment["EMTS_INSTALL_OS"], !path.isEmpty { return path }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("install-os").path
    }

    private static func build() throws -> InstallMediumFixture {
        let bed = try TestBed.shared()
        let packages = try PackageInjectionBoots.fetchPackages(for: bed)
        let osImage = try OSImageFixture.locate(for: bed)
        let directory = TestBed.logDirectory.appendingPathComponent("install-medium")
        try? FileManager.default.removeItem(at: directory)
        var request = EditRequest.standard
        request.packages = PackageRequest(directory: packages)
        var inputs = MicroOSInputs(kernel: bed.kernel.path, initramfs: bed.initramfs(.gzip).path, request: request)
        try inputs.inject(try InstallerBundle(executable: installerExecutable))
        let output = directory.appendingPathComponent("emt-s.iso")
        // no_timer_check: see TestBed.commandLine (TCG on a busy host).
        let manifest = try InstallMediumBuild.build(
            inputs, kernelArguments: try KernelArguments(extras: ["no_timer_check"]), installerConfig: nil,
            osImage: osImage.image.path,
            epoch: 1_700_000_000, output: output.path, tool: "test")
        return InstallMediumFixture(iso: output, kernel: bed.kernel, manifest: manifest)
    }
}

/// The EMT-like OS raw image built by `Fixtures/make-os-image.sh` from the test bed (cached).
struct OSImageFixture: Sendable {
    let directory: URL
    var image: URL { directory.appendingPathComponent("emt-os.raw.gz") }

    /// - Parameter packages: .deb files to unpack into the OS's root too (lvm2, cryptsetup-bin...).
    static func locate(for bed: TestBed, packages: String? = nil) throws -> OSImageFixture {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/make-os-image.sh")
        let output = try runScript(script, arguments: (packages.map { ["--packages", $0] } ?? []) + [bed.directory.path])
        return OSImageFixture(directory: URL(fileURLWithPath: output))
    }
}

/// A console log as text (firmware output is not always valid UTF-8).
extension BootExpectation {
    /// A boot of the install medium in which install-os runs: `markers` must appear; the known failures,
    /// install-os's unit failing and `alsoFailing` fail it.
    static func installRun(_ markers: [String], alsoFailing: [String] = [], overall: Duration = .seconds(900),
                           silence: Duration = .seconds(120)) -> BootExpectation {
        BootExpectation(markers: markers, failures: knownFailures + ["Failed to start install-os"] + alsoFailing,
                        overallTimeout: overall, silenceTimeout: silence)
    }
}

func consoleText(_ log: URL) throws -> String {
    String(decoding: try Data(contentsOf: log), as: UTF8.self)
}

func makeSparseFile(_ url: URL, bytes: Int64) throws {
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    try handle.truncate(atOffset: UInt64(bytes))
    try handle.close()
}

/// A disk image whose every MiB holds a distinct pattern (so any write shows in its sha256).
func makePatternFile(_ url: URL, bytes: Int64) throws {
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    let mib = 1 << 20
    for index in 0 ..< Int(bytes) / mib {
        let word = "EMTS-BYSTANDER MiB \(index) ".utf8
        var block = [UInt8](repeating: 0, count: mib)
        var position = 0
        while position + word.count <= mib {
            block.replaceSubrange(position ..< position + word.count, with: word)
            position += 4096
        }
        try handle.write(contentsOf: block)
    }
}

func sha256(of url: URL) throws -> String {
    try FileDigest.sha256(of: url.path).sha256
}
