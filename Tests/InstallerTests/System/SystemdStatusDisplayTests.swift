@testable import Installer
import Foundation
import Testing

@Suite struct SystemdStatusDisplayTests {
    @Test func onlySystemdAsPID1IsSignalled() throws {
        try withScratchDirectory { scratch in
            let paths = HostPaths(sysfs: scratch.path + "/sys", dev: scratch.path + "/dev", proc: scratch.path + "/proc")
            #expect(SystemdStatusDisplay(paths: paths) == nil, "no /proc/1/comm: nothing to tell")
            try writeText("busybox\n", to: scratch.path + "/proc/1/comm")
            #expect(SystemdStatusDisplay(paths: paths) == nil)
            try writeText("systemd\n", to: scratch.path + "/proc/1/comm")
            // Not paused here: that would signal this machine's real PID 1.
            #expect(SystemdStatusDisplay(paths: paths)?.initName == "systemd")
        }
    }
}
