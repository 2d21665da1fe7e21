import Glibc

/// systemd's status display on the console ("A start job is running for Install EMT-S ..." and its spinner,
/// redrawn every second once boot waits on install-os), turned off while install-os writes its own progress
/// to the same consoles and back on when it ends: SIGRTMIN+21 and SIGRTMIN+20 to PID 1 (systemd(1)).
public struct SystemdStatusDisplay: Sendable {
    /// `/proc/1/comm`: the signals mean this only to systemd.
    let initName: String

    /// The display of the running system; `nil` when PID 1 is not systemd (a container, a test machine without
    /// it), where nothing is sent.
    public init?(paths: HostPaths = HostPaths()) {
        guard let name = SysfsFiles.contents(paths.proc + "/1/comm")?.trimmingWhitespace, name == "systemd" else {
            return nil
        }
        initName = name
    }

    /// Hides systemd's status lines; returns whether systemd was told.
    @discardableResult
    public func pause() -> Bool { signal(21) }

    /// Shows them again.
    @discardableResult
    public func resume() -> Bool { signal(20) }

    private func signal(_ offset: Int32) -> Bool {
        kill(1, __libc_current_sigrtmin() + offset) == 0
    }
}
