@testable import Installer
import Testing

@Suite struct MountTableTests {
    @Test func parsesMountinfoAndSwaps() {
        let table = MountTable(mountInfo: """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            36 27 8:1 / /mnt/with\\040space rw,noatime shared:1 master:2 - ext4 /dev/sda1 rw,errors=continue
            37 27 259:2 / /boot rw - vfat /dev/nvme0n1p2 rw
            garbage line
            """, swaps: """
            Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority
            /dev/sdb2                               partition\t2097148\t\t0\t\t-2
            """)
        #expect(table.entries.count == 3)
        #expect(table.entries[1] == MountTable.Entry(deviceNumber: "8:1", mountPoint: "/mnt/with space",
                                                     fileSystemType: "ext4", source: "/dev/sda1"))
        #expect(table.swapDevices == ["/dev/sdb2"])
        let paths = HostPaths()
        #expect(table.mountPoints(name: "sda1", deviceNumber: "8:1", paths: paths) == ["/mnt/with space"])
        #expect(table.mountPoints(name: "nvme0n1p2", deviceNumber: nil, paths: paths) == ["/boot"], "by source name")
        #expect(table.mountPoints(name: "sda2", deviceNumber: "8:2", paths: paths).isEmpty)
        #expect(table.isSwap(name: "sdb2", paths: paths))
        #expect(!table.isSwap(name: "sdb1", paths: paths))
    }
}
