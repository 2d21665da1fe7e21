import Foundation
import Installer
import Testing

/// A fake machine in a temporary directory: sysfs with the real layout (`devices/...` directories,
/// `block/` and `class/block/` links into them), a `/dev` of regular files and links, and `/proc` files.
struct FakeSystem {
    let root: String
    var sysfs: String { root + "/sys" }
    var dev: String { root + "/dev" }
    var proc: String { root + "/proc" }
    var paths: HostPaths { HostPaths(sysfs: sysfs, dev: dev, proc: proc, runtime: root + "/run") }

    /// Bus paths (under sysfs `devices/`) as the kernel places disks of each transport.
    enum Bus {
        static func nvme(_ index: Int) -> String { "pci0000:00/0000:00:0\(4 + index).0/nvme/nvme\(index)" }
        static func sata(_ port: Int) -> String {
            "pci0000:00/0000:00:1f.2/ata\(port + 1)/host\(port)/target\(port):0:0/\(port):0:0:0"
        }
        static func virtio(_ index: Int) -> String { "pci0000:00/0000:00:0\(8 + index).0/virtio\(index)" }
        static func usb(_ host: Int) -> String {
            "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host\(host)/target\(host):0:0/\(host):0:0:0"
        }
        static let virtual = "virtual"
    }

    init(root: String) throws {
        self.root = root
        for directory in [sysfs + "/block", sysfs + "/class/block", sysfs + "/devices", dev, proc + "/self"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try setMountInfo([
            "22 27 0:21 / /proc rw,relatime - proc proc rw",
            "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw",
            "27 1 0:25 / / rw,relatime - tmpfs tmpfs rw,mode=755",
        ])
        try writeText("", to: proc + "/cmdline")
    }

    /// Adds a whole disk. `bus` is where the disk's device sits; `sizeBytes` goes to `size` in sectors.
    @discardableResult
    func addDisk(_ name: String, bus: String, sizeBytes: UInt64, deviceNumber: String, removable: Bool = false,
                 readOnly: Bool = false, vendor: String? = nil, model: String? = nil, rotational: Bool = false,
                 logicalBlockSize: Int = 512, serial: String? = nil) throws -> String {
        let busDirectory = sysfs + "/devices/" + bus
        let blockDirectory = busDirectory + "/block/" + name
        try FileManager.default.createDirectory(atPath: blockDirectory + "/holders", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: blockDirectory + "/queue", withIntermediateDirectories: true)
        try writeText("\(sizeBytes / 512)\n", to: blockDirectory + "/size")
        try writeText(removable ? "1\n" : "0\n", to: blockDirectory + "/removable")
        try writeText(readOnly ? "1\n" : "0\n", to: blockDirectory + "/ro")
        try writeText("\(deviceNumber)\n", to: blockDirectory + "/dev")
        try writeText(rotational ? "1\n" : "0\n", to: blockDirectory + "/queue/rotational")
        try writeText("\(logicalBlockSize)\n", to: blockDirectory + "/queue/logical_block_size")
        if bus != Bus.virtual {
            if let vendor { try writeText(vendor.padding(toLength: 8, withPad: " ", startingAt: 0) + "\n", to: busDirectory + "/vendor") }
            if let model { try writeText(model + "   \n", to: busDirectory + "/model") }
            if let serial { try writeText(serial + "\n", to: busDirectory + "/serial") }
            try FileManager.default.createSymbolicLink(atPath: blockDirectory + "/device", withDestinationPath: "../..")
        }
        try FileManager.default.createSymbolicLink(atPath: sysfs + "/block/" + name,
                                                   withDestinationPath: "../devices/\(bus)/block/\(name)")
        try FileManager.default.createSymbolicLink(atPath: sysfs + "/class/block/" + name,
                                                   withDestinationPath: "../../devices/\(bus)/block/\(name)")
        return blockDirectory
    }

    /// Adds partition `number` to `disk` (which sits on `bus`).
    func addPartition(_ name: String, of disk: String, bus: String, number: Int, sizeBytes: UInt64,
                      deviceNumber: String) throws {
        let directory = sysfs + "/devices/\(bus)/block/\(disk)/\(name)"
        try FileManager.default.createDirectory(atPath: directory + "/holders", withIntermediateDirectories: true)
        try writeText("\(number)\n", to: directory + "/partition")
        try writeText("\(sizeBytes / 512)\n", to: directory + "/size")
        try writeText("\(deviceNumber)\n", to: directory + "/dev")
        try FileManager.default.createSymbolicLink(atPath: sysfs + "/class/block/" + name,
                                                   withDestinationPath: "../../devices/\(bus)/block/\(disk)/\(name)")
    }

    /// Marks `holder` (such as `dm-0`) as stacked on the device at `directory` (a disk or partition directory).
    func addHolder(_ holder: String, toDirectory directory: String) throws {
        try writeText("", to: directory + "/holders/" + holder)
    }

    func setMountInfo(_ lines: [String]) throws {
        try writeText(lines.joined(separator: "\n") + "\n", to: proc + "/self/mountinfo")
    }

    func setCommandLine(_ text: String) throws {
        try writeText(text + "\n", to: proc + "/cmdline")
    }

    /// A `/dev/disk/by-id` (or by-path) link to `target` (`../../sda`).
    func addLink(_ relative: String, to target: String) throws {
        let path = dev + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    /// Marks the machine as booted through UEFI.
    func enableUEFI() throws {
        try FileManager.default.createDirectory(atPath: sysfs + "/firmware/efi/efivars", withIntermediateDirectories: true)
    }
}

/// An EMT-S USB stick plugged into a `FakeSystem`: `sdb` holds an ISO 9660 image made with xorriso (so
/// libblkid sees the real label), visible again as `sdb1`; `sdb2` is the ESP and `sdb3` the config FAT.
/// Mounting is done by a `DirectoryMounter` that shows the ISO's source directory and the config directory.
struct FakeMedium {
    let buildID: String
    /// What the mounted ISO 9660 file system shows.
    let mediumDirectory: String
    /// What the mounted config partition shows.
    let configDirectory: String
    let mounter: DirectoryMounter

    /// - Parameters:
    ///   - images: files to place in `/images` (name -> source path); the caller adds `.sha256` files there.
    ///   - configYAML: `installer.yaml` on the config partition, if any.
    init(on system: FakeSystem, buildID: String, disk: String = "sdb", hostNumber: Int = 4,
         prepareImages: (String) throws -> Void, configYAML: String? = nil, extraDirectories: [String: String] = [:]) throws {
        self.buildID = buildID
        mediumDirectory = system.root + "/medium-\(disk)"
        configDirectory = system.root + "/config-\(disk)"
        try FileManager.default.createDirectory(atPath: mediumDirectory + "/.disk", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: mediumDirectory + "/images", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        try writeText("", to: mediumDirectory + "/.disk/emts-iso-\(buildID)")
        try writeText("EMT-S install medium \(buildID)\n", to: mediumDirectory + "/.disk/info")
        try prepareImages(mediumDirectory + "/images")
        if let configYAML { try writeText(configYAML, to: configDirectory + "/installer.yaml") }

        let iso = system.dev + "/" + disk
        try mustRun(["xorriso", "-as", "mkisofs", "-quiet", "-V", "EMTS_INSTALL", "-R", "-o", iso, mediumDirectory])
        let isoSize = (try FileManager.default.attributesOfItem(atPath: iso)[.size] as? NSNumber)?.uint64Value ?? 0
        try FileManager.default.copyItem(atPath: iso, toPath: iso + "1")
        for (number, label) in [(2, "EMTS-EFI"), (3, "EMTS-CONFIG")] {
            let path = system.dev + "/\(disk)\(number)"
            try makeSparseFile(path, size: 4 << 20)
            try mustRun(["mkfs.vfat", "-n", label, path])
        }
        let bus = FakeSystem.Bus.usb(hostNumber)
        try system.addDisk(disk, bus: bus, sizeBytes: isoSize + (8 << 20), deviceNumber: "8:\(16 * hostNumber)",
                           removable: true, vendor: "SanDisk", model: "Cruzer")
        for number in 1 ... 3 {
            try system.addPartition("\(disk)\(number)", of: disk, bus: bus, number: number, sizeBytes: 4 << 20,
                                    deviceNumber: "8:\(16 * hostNumber + number)")
        }
        var directories = [iso: mediumDirectory, iso + "1": mediumDirectory, system.dev + "/\(disk)3": configDirectory]
        directories.merge(extraDirectories) { $1 }
        mounter = DirectoryMounter(directories)
    }
}
