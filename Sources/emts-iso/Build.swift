import ArchiveKit
import ArgumentParser
import Foundation
import HybridISO
import InstallMedium
import Installer
import MicroOS
import Release

/// `emts-iso build`: the µOS edited for installing (agents off, files added), written in one streaming pass.
struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the EMT-S install medium from the µOS.",
        discussion: """
        Reads the µOS initramfs and its nested root filesystem archive in one stream, disables the provisioning \
        agents (mask + removal of their enablement links), adds files, and writes the new initramfs; then writes \
        the hybrid ISO (BIOS and UEFI, CD and USB stick) around it with its manifest (FILE.manifest.json). \
        Nothing is unpacked onto the disk; outputs appear only when complete.

        --secure-boot picks the UEFI boot path: none (our GRUB, unsigned), shim (a Microsoft-signed shim and the \
        distribution-signed GRUB; the kernel must be signed by a key shim trusts), or sign (systemd-boot and a \
        unified kernel image signed with --sign-key/--sign-cert, an unencrypted PEM key).

        --initramfs-only DIR writes only DIR/vmlinuz, DIR/initramfs.img and DIR/manifest.json.
        """)

    @Option(help: "The µOS kernel (an x86 bzImage).")
    var kernel: String?

    @Option(help: "The µOS initramfs (newc cpio segments, plain or gzip/zstd/xz/lz4/bzip2-compressed).")
    var initramfs: String?

    @Option(name: .customLong("uos-tarball"),
            help: "The µOS image tarball instead of --kernel/--initramfs: its boot/vmlinuz-* and boot/initramfs-*.img are used, and the tarball (without tmp/ and kernel files) becomes the nested rootfs.")
    var uosTarball: String?

    @Option(name: .customLong("disable-unit"),
            help: "A unit to disable (repeatable). Default: tink-worker, caddy, fluent-bit, device-discovery.")
    var disableUnits: [String] = []

    @Option(name: .customLong("add"), help: ArgumentHelp("Add a host file to the µOS root (repeatable).", valueName: "FILE:DEST"))
    var additions: [String] = []

    @Option(help: "Compression of the initramfs: gzip (default), zstd, xz or none.")
    var compression: String?

    @Option(help: "Name of the nested root filesystem archive in the initramfs (default rootfs.tar.gz).")
    var nestedName: String?

    @Option(help: ArgumentHelp("Compression level (1-9) of what the build compresses in the nested archive: in a spliced gzip archive its new entries and the blocks around removed ones (default 1), else the whole archive (default: the compression's own).", valueName: "N"))
    var nestedLevel: Int?

    @Option(name: .customLong("max-unpacked-size"), help: ArgumentHelp("Refuse a µOS that unpacks to more than SIZE: bytes, or with K, M, G or T (default 8G; a guard against decompression bombs).", valueName: "SIZE"))
    var maxUnpackedSize: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the hybrid ISO to FILE (its manifest beside it).", valueName: "FILE"))
    var output: String?

    @Option(name: .customLong("karg"), help: "An extra kernel argument (repeatable); the µOS's own cannot be dropped or contradicted.")
    var kernelArguments: [String] = []

    @Option(name: .customLong("os-image"), help: ArgumentHelp("The EMT OS raw image (.raw.gz, .raw.zst or .raw.xz), carried in the ISO's /images/ with its sha256.", valueName: "FILE"))
    var osImage: String?

    @Option(name: .customLong("user-apps"), help: ArgumentHelp("A directory carried in the ISO as /user-apps/; install-os copies it to the installed system's persistent partition.", valueName: "DIR"))
    var userApps: String?

    @Option(name: .customLong("installer-config"), help: ArgumentHelp("The installer configuration for the medium's writable config partition.", valueName: "FILE"))
    var installerConfig: String?

    @Option(name: .customLong("installer"), help: ArgumentHelp("The install-os executable to inject with its libraries (default: install-os next to emts-iso).", valueName: "FILE"))
    var installer: String?

    @Flag(name: .customLong("no-installer"), help: "Inject no install-os: the medium boots the µOS and installs nothing.")
    var noInstaller = false

    @Option(name: .customLong("secure-boot"), help: "UEFI Secure Boot path: none (default), shim or sign.")
    var secureBoot: String?

    @Option(help: ArgumentHelp("shim for --secure-boot shim (default: Debian's shim-signed).", valueName: "FILE"))
    var shim: String?

    @Option(name: .customLong("signed-grub"), help: ArgumentHelp("The signed GRUB shim starts (default: Debian's).", valueName: "FILE"))
    var signedGrub: String?

    @Option(name: .customLong("mok-manager"), help: ArgumentHelp("shim's MokManager (default: Debian's).", valueName: "FILE"))
    var mokManager: String?

    @Option(name: .customLong("sign-key"), help: ArgumentHelp("Private key (PEM) for --secure-boot sign.", valueName: "FILE"))
    var signKey: String?

    @Option(name: .customLong("sign-cert"), help: ArgumentHelp("Certificate (PEM) for --secure-boot sign.", valueName: "FILE"))
    var signCert: String?

    @Option(name: .customLong("initramfs-only"), help: ArgumentHelp("Instead of an ISO: write vmlinuz, initramfs.img and manifest.json into DIR.", valueName: "DIR"))
    var initramfsOnly: String?

    @Option(name: .customLong("packages"), help: ArgumentHelp("Inject packages (.rpm or .deb) from this directory into the µOS root.", valueName: "DIR"))
    var packageDirectory: String?

    @Option(name: .customLong("install"), help: ArgumentHelp("A package to inject with its dependencies (repeatable; default efibootmgr gawk lvm2 net-tools parted).", valueName: "NAME"))
    var installNames: [String] = []

    @Flag(name: .customLong("allow-missing-deps"), help: "Warn about dependencies nothing satisfies instead of failing.")
    var allowMissingDependencies = false

    @Option(help: ArgumentHelp("Take every input from this YAML file (paths relative to it); options given here override it.", valueName: "FILE.yaml"))
    var spec: String?

    @Option(name: .customLong("source-date-epoch"), help: ArgumentHelp("Every time written, for reproducible output (default: $SOURCE_DATE_EPOCH, then the spec's source_date_epoch).", valueName: "SECONDS"))
    var sourceDateEpoch: Int64?

    @Flag(help: "Print the edit plan and write nothing.")
    var dryRun = false

    @Flag(help: "Machine-readable output: JSON lines of events on standard output.")
    var json = false

    func validate() throws {
        try merged().check()
    }

    /// This command with the spec's values filling what the command line left out.
    func merged() throws -> Build {
        guard let spec else { return self }
        let file: BuildSpec
        do {
            file = try BuildSpec.read(spec)
        } catch {
            throw ValidationError("--spec: \(error)")
        }
        var build = self
        if build.kernel == nil, build.initramfs == nil, build.uosTarball == nil {
            build.kernel = file.kernel
            build.initramfs = file.initramfs
            build.uosTarball = file.uosTarball
        }
        if build.output == nil, build.initramfsOnly == nil { build.output = file.output }
        if build.disableUnits.isEmpty { build.disableUnits = file.disableUnits ?? [] }
        if build.additions.isEmpty { build.additions = file.add ?? [] }
        build.compression = build.compression ?? file.compression
        build.nestedName = build.nestedName ?? file.nestedName
        if build.kernelArguments.isEmpty { build.kernelArguments = file.kargs ?? [] }
        build.osImage = build.osImage ?? file.osImage
        build.userApps = build.userApps ?? file.userApps
        build.installerConfig = build.installerConfig ?? file.installerConfig
        if build.installer == nil, !build.noInstaller {
            if file.installer == "none" { build.noInstaller = true } else { build.installer = file.installer }
        }
        build.packageDirectory = build.packageDirectory ?? file.packages
        if build.installNames.isEmpty { build.installNames = file.install ?? [] }
        build.allowMissingDependencies = build.allowMissingDependencies || file.allowMissingDeps == true
        build.secureBoot = build.secureBoot ?? file.secureBoot
        build.shim = build.shim ?? file.shim
        build.signedGrub = build.signedGrub ?? file.signedGrub
        build.mokManager = build.mokManager ?? file.mokManager
        build.signKey = build.signKey ?? file.signKey
        build.signCert = build.signCert ?? file.signCert
        if build.sourceDateEpoch == nil, ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] == nil {
            build.sourceDateEpoch = file.sourceDateEpoch
        }
        build.spec = nil
        return build
    }

    /// The epoch every written time uses: --source-date-epoch, $SOURCE_DATE_EPOCH, the spec's, or `fallback`.
    func epoch(fallback: Int64) -> Int64 {
        sourceDateEpoch ?? ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(Int64.init) ?? fallback
    }

    var compressionName: String { compression ?? "gzip" }

    private func check() throws {
        switch (kernel, initramfs, uosTarball) {
        case (.some, .some, nil), (nil, nil, .some): break
        default: throw ValidationError("give --kernel and --initramfs, or --uos-tarball")
        }
        if noInstaller, installer != nil {
            throw ValidationError("--installer and --no-installer contradict each other")
        }
        if packageDirectory == nil, !installNames.isEmpty || allowMissingDependencies {
            throw ValidationError("--install and --allow-missing-deps need --packages DIR")
        }
        if let maxUnpackedSize, Self.byteCount(maxUnpackedSize) == nil {
            throw ValidationError("--max-unpacked-size: \"\(maxUnpackedSize)\" is not a size (bytes, or a number with K, M, G or T)")
        }
        if let nestedLevel, !(1 ... 9).contains(nestedLevel) {
            throw ValidationError("--nested-level must be 1 to 9 (got \(nestedLevel))")
        }
        guard ArchiveFilter(rawValue: compressionName).map(RewriteOptions.outerCompressions.contains) == true else {
            throw ValidationError("--compression must be one of gzip, zstd, xz, none (got \(compressionName))")
        }
        if (output == nil) == (initramfsOnly == nil) && !dryRun {
            throw ValidationError("give -o FILE.iso, or --initramfs-only DIR (or --dry-run)")
        }
        do {
            _ = try KernelArguments(extras: kernelArguments)
        } catch {
            throw ValidationError("--karg: \(error)")
        }
        for addition in additions where !addition.contains(":") {
            throw ValidationError("--add takes FILE:DEST (got \(addition))")
        }
        _ = try secureBootMode()
        if let installerConfig {
            // Checked with install-os's own parser, so a typo fails the build, not the install.
            guard let data = FileManager.default.contents(atPath: installerConfig) else {
                throw ValidationError("--installer-config: cannot read \(installerConfig)")
            }
            do {
                _ = try InstallerConfigFile(yaml: String(decoding: data, as: UTF8.self), path: installerConfig)
            } catch {
                throw ValidationError("--installer-config: \(error)")
            }
        }
    }

    /// `--secure-boot` and the files it needs.
    func secureBootMode() throws -> SecureBootMode {
        switch secureBoot ?? "none" {
        case "none":
            return .none
        case "shim":
            let debian = ShimLoaders.debian
            return .shim(ShimLoaders(shim: shim ?? debian.shim, grub: signedGrub ?? debian.grub,
                                     mokManager: mokManager ?? debian.mokManager))
        case "sign":
            guard let signKey, let signCert else {
                throw ValidationError("--secure-boot sign needs --sign-key and --sign-cert")
            }
            return .sign(SigningIdentity(key: signKey, certificate: signCert))
        default:
            throw ValidationError("--secure-boot must be none, shim or sign (got \(secureBoot ?? ""))")
        }
    }

    func run() async throws {
        try merged().execute()
    }

    private func execute() throws {
        let console = Console(json: json)
        do {
            let inputs = try makeInputs()
            if let output, !dryRun {
                // The whole build; its work files stay beside the ISO.
                let epoch = epoch(fallback: Int64(Date().timeIntervalSince1970))
                let manifest = try InstallMediumBuild.build(
                    inputs, kernelArguments: try KernelArguments(extras: kernelArguments),
                    installerConfig: installerConfig, osImage: osImage, userApps: userApps,
                    secureBoot: try secureBootMode(),
                    epoch: epoch, output: output,
                    tool: "emts-iso \(Release.version)") { console.progress($0) }
                console.done(manifest)
                return
            }
            // A µOS tarball's kernel and initramfs are copied next to the outputs (or to TMPDIR for a dry run).
            var workDirectory: String?
            if let initramfsOnly, !dryRun {
                try MicroOSBuild.createOutputDirectory(initramfsOnly)
                workDirectory = initramfsOnly
            }
            let plan = try MicroOSBuild.plan(inputs, workDirectory: workDirectory)
            defer { plan.discard() }
            if dryRun {
                console.plan(plan)
                return
            }
            let directory = initramfsOnly!
            let manifest = try MicroOSBuild.writeInitramfsPair(inputs, plan: plan, into: directory,
                                                               tool: "emts-iso \(Release.version)") { progress in
                console.progress(progress)
            }
            console.done(manifest, directory: directory)
        } catch let error as ValidationError {
            throw error
        } catch {
            console.failure(error)
            throw ExitCode.failure
        }
    }

    private func makeInputs() throws -> MicroOSInputs {
        let epoch = epoch(fallback: EditRequest.defaultMtime)
        var request = EditRequest(disableUnits: disableUnits.isEmpty ? EditRequest.agentUnits : disableUnits, mtime: epoch)
        for addition in additions {
            let split = addition.firstIndex(of: ":")!
            let source = String(addition[..<split])
            let destination = String(addition[addition.index(after: split)...])
            let permissions = ((try? FileManager.default.attributesOfItem(atPath: source)[.posixPermissions]) as? NSNumber)?
                .uint32Value ?? 0o644
            request.files.append(EditRequest.File(destination: destination, source: try .hostFile(at: source),
                                                  permissions: permissions & 0o111 != 0 ? 0o755 : 0o644))
        }
        if let packageDirectory {
            request.packages = PackageRequest(directory: packageDirectory,
                                              names: installNames.isEmpty ? PackageRequest.defaultNames : installNames,
                                              allowMissingDependencies: allowMissingDependencies)
        }
        if let installerConfig {
            // The µOS carries the build's installer config; the copy on the config partition overrides it.
            request.files.append(EditRequest.File(destination: InstallMediumBuild.embeddedInstallerConfig,
                                                  source: try .hostFile(at: installerConfig), permissions: 0o644))
        }
        let source: MicroOSSource = uosTarball.map { .tarball($0) } ?? .initramfs(kernel: kernel!, initramfs: initramfs!)
        var options = RewriteOptions(nestedName: nestedName ?? Initramfs.rootfsName,
                                     outerCompression: ArchiveFilter(rawValue: compressionName) ?? .gzip,
                                     nestedLevel: nestedLevel)
        if let size = maxUnpackedSize.flatMap(Self.byteCount) { options.limits = .total(size) }
        var inputs = MicroOSInputs(source: source, request: request, options: options)
        if !noInstaller {
            // Its library closure and version are read while the µOS is scanned.
            let executable = try installerExecutable()
            inputs.inject { try InstallerBundle(executable: executable) }
        }
        return inputs
    }

    /// `--installer`, else the install-os built and shipped beside this emts-iso.
    private func installerExecutable() throws -> String {
        if let installer { return installer }
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = own.deletingLastPathComponent().appendingPathComponent("install-os").path
        guard FileManager.default.isExecutableFile(atPath: sibling) else {
            throw ValidationError("no install-os next to emts-iso (\(sibling)): give --installer FILE, or --no-installer "
                + "for a medium that boots the µOS without installing")
        }
        return sibling
    }
}

extension Build {
    /// "8G", "512M", "1048576": bytes, with a binary K, M, G or T suffix; nil for anything else or zero.
    static func byteCount(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.uppercased())
        var unit: Int64 = 1
        if let last = digits.last, let scale = units[last] {
            unit = scale
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }
}
