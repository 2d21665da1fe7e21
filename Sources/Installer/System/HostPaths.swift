/// Where install-os looks at the machine it runs on. Every root can be moved, so tests run against fake
/// sysfs, /dev and /proc trees in a temporary directory and never see a real disk.
public struct HostPaths: Sendable, Equatable {
    /// sysfs (`/sys`): block devices, their attributes and holders, the firmware type.
    public var sysfs: String
    /// The device directory (`/dev`): device nodes and the `/dev/disk/by-*` links.
    public var dev: String
    /// procfs (`/proc`): the kernel command line, the mount table, swaps.
    public var proc: String
    /// Where install-os creates its own mount points.
    public var runtime: String

    public init(sysfs: String = "/sys", dev: String = "/dev", proc: String = "/proc", runtime: String = "/run/install-os") {
        self.sysfs = sysfs.trimmingTrailingSlashes
        self.dev = dev.trimmingTrailingSlashes
        self.proc = proc.trimmingTrailingSlashes
        self.runtime = runtime.trimmingTrailingSlashes
    }

    /// `/sys/block`: one entry per whole disk.
    public var blockDirectory: String { sysfs + "/block" }
    /// `/sys/class/block`: one entry per disk and per partition.
    public var classBlockDirectory: String { sysfs + "/class/block" }
    /// `/sys/firmware/efi`: present when the machine booted through UEFI.
    public var efiDirectory: String { sysfs + "/firmware/efi" }
    /// `/sys/firmware/efi/efivars`.
    public var efiVariablesDirectory: String { efiDirectory + "/efivars" }
    /// `/proc/cmdline`.
    public var commandLine: String { proc + "/cmdline" }
    /// `/proc/self/mountinfo`.
    public var mountInfo: String { proc + "/self/mountinfo" }
    /// `/proc/swaps`.
    public var swaps: String { proc + "/swaps" }

    /// The device node of kernel device `name` (`/dev/sda`).
    public func devicePath(_ name: String) -> String { dev + "/" + name }

    /// The kernel name of a device path under the device directory, without following links
    /// (`/dev/sda` -> `sda`); `nil` for a path elsewhere or in a subdirectory.
    public func kernelName(ofDevicePath path: String) -> String? {
        guard path.hasPrefix(dev + "/") else { return nil }
        let rest = String(path.dropFirst(dev.count + 1))
        return rest.isEmpty || rest.contains("/") ? nil : rest
    }
}
