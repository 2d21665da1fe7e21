import Foundation

/// The machine install-os works on, every part of it replaceable for tests: the system trees it reads, how
/// it mounts, how it runs commands, its clocks.
public struct InstallEnvironment: Sendable {
    public var paths: HostPaths
    /// The embedded configuration (`/etc/emts/installer.yaml`).
    public var configPath: String
    /// True when `configPath` was given explicitly (`--config`): it must then exist.
    public var configRequired: Bool
    public var mounter: any FileSystemMounter
    public var runner: any CommandRunner
    /// Monotonic seconds.
    public var clock: @Sendable () -> Double
    /// Wall-clock time (log names and timestamps).
    public var now: @Sendable () -> Date
    /// How long to wait for the medium to appear when the kernel command line names it (`emts.medium=`):
    /// USB sticks can take seconds to show up after boot.
    public var mediumWaitSeconds: Double
    public var sleep: @Sendable (Double) -> Void

    public init(paths: HostPaths = HostPaths(), configPath: String = InstallerConfig.embeddedPath,
                configRequired: Bool = false, mounter: (any FileSystemMounter)? = nil,
                runner: any CommandRunner = ProcessRunner(),
                clock: @escaping @Sendable () -> Double = ImageWriter.monotonicSeconds,
                now: @escaping @Sendable () -> Date = { Date() }, mediumWaitSeconds: Double = 30,
                sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.paths = paths
        self.configPath = configPath
        self.configRequired = configRequired
        self.mounter = mounter ?? SystemMounter(paths: paths)
        self.runner = runner
        self.clock = clock
        self.now = now
        self.mediumWaitSeconds = mediumWaitSeconds
        self.sleep = sleep
    }
}
