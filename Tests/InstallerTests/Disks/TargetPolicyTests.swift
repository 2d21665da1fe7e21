import Foundation
@testable import Installer
import Testing

private let gigabyte: UInt64 = 1_000_000_000

/// The machine of these tests: two NVMe disks, a SATA disk, a virtio disk, the USB stick that booted
/// (removable, with the hybrid ISO's three partitions), a loop device, a SATA disk with a mounted
/// partition, a read-only SATA disk, one with an LVM volume on it, a small one and a non-removable USB disk.
private func makeMachine(_ directory: URL) throws -> FakeSystem {
    let system = try FakeSystem(root: directory.path)
    typealias Bus = FakeSystem.Bus
    try system.addDisk("nvme0n1", bus: Bus.nvme(0), sizeBytes: 256 * gigabyte, deviceNumber: "259:0",
                       model: "Samsung SSD 980", serial: "S1")
    try system.addDisk("nvme1n1", bus: Bus.nvme(1), sizeBytes: 1000 * gigabyte, deviceNumber: "259:1",
                       model: "WD Black SN770")
    try system.addDisk("sda", bus: Bus.sata(0), sizeBytes: 500 * gigabyte, deviceNumber: "8:0", vendor: "ATA",
                       model: "QEMU HARDDISK", rotational: true)
    try system.addDisk("vda", bus: Bus.virtio(0), sizeBytes: 100 * gigabyte, deviceNumber: "254:0", vendor: "0x1af4")
    try system.addDisk("sdb", bus: Bus.usb(4), sizeBytes: 16 * gigabyte, deviceNumber: "8:16", removable: true,
                       vendor: "SanDisk", model: "Cruzer")
    for number in 1 ... 3 {
        try system.addPartition("sdb\(number)", of: "sdb", bus: Bus.usb(4), number: number, sizeBytes: 100_000_000,
                                deviceNumber: "8:\(16 + number)")
    }
    try system.addDisk("loop0", bus: Bus.virtual, sizeBytes: 50_000_000, deviceNumber: "7:0")
    try system.addDisk("sdc", bus: Bus.sata(1), sizeBytes: 120 * gigabyte, deviceNumber: "8:32", vendor: "ATA",
                       model: "Data")
    try system.addPartition("sdc1", of: "sdc", bus: Bus.sata(1), number: 1, sizeBytes: 120 * gigabyte,
                            deviceNumber: "8:33")
    try system.addDisk("sdd", bus: Bus.sata(2), sizeBytes: 200 * gigabyte, deviceNumber: "8:48", readOnly: true,
                       vendor: "ATA", model: "Locked")
    let sde = try system.addDisk("sde", bus: Bus.sata(3), sizeBytes: 300 * gigabyte, deviceNumber: "8:64",
                                 vendor: "ATA", model: "LVM")
    try system.addPartition("sde1", of: "sde", bus: Bus.sata(3), number: 1, sizeBytes: 300 * gigabyte,
                            deviceNumber: "8:65")
    try system.addHolder("dm-0", toDirectory: sde + "/sde1")
    try system.addDisk("sdf", bus: Bus.sata(4), sizeBytes: 4 * gigabyte, deviceNumber: "8:80", vendor: "ATA",
                       model: "Tiny")
    try system.addDisk("sdg", bus: Bus.usb(6), sizeBytes: 2000 * gigabyte, deviceNumber: "8:96", vendor: "Seagate",
                       model: "Expansion")
    try system.setMountInfo([
        "22 27 0:21 / /proc rw,relatime - proc proc rw",
        "27 1 0:25 / / rw,relatime - tmpfs tmpfs rw,mode=755",
        "40 27 8:33 / /mnt/data\\040disk rw,relatime - ext4 /dev/sdc1 rw",
    ])
    try system.addLink("disk/by-id/ata-QEMU_HARDDISK_QM00001", to: "../../sda")
    try system.addLink("disk/by-id/ata-QEMU_HARDDISK_QM00001-part1", to: "../../sda1")
    try system.addLink("disk/by-path/pci-0000:00:04.0-nvme-1", to: "../../nvme0n1")
    try system.addLink("disk/by-id/usb-SanDisk_Cruzer", to: "../../sdb")
    // sda1 exists as a partition for the "partition given" case.
    try system.addPartition("sda1", of: "sda", bus: Bus.sata(0), number: 1, sizeBytes: 500 * gigabyte,
                            deviceNumber: "8:1")
    return system
}

private let requirement = SizeRequirement(bytes: 8 * gigabyte, basis: "the image's GPT ends at byte 8000000000",
                                          imageSectorSize: 512)

private func policy(_ preference: TargetPreference = .smallest) -> TargetPolicy {
    TargetPolicy(mediumNames: ["sdb", "sdb1", "sdb2", "sdb3"], requirement: requirement, preference: preference)
}

@Suite struct TargetPolicyTests {
    @Test func inventoryReadsSysfs() throws {
        try withScratchDirectory { directory in
            let system = try makeMachine(directory)
            let inventory = try DiskInventory.scan(system.paths)
            #expect(inventory.disks.map(\.name) == ["loop0", "nvme0n1", "nvme1n1", "sda", "sdb", "sdc", "sdd", "sde",
                                                    "sdf", "sdg", "vda"])
            let nvme = try #require(inventory.disk(named: "nvme0n1"))
            #expect(nvme.transport == .nvme)
            #expect(nvme.sizeBytes == 256 * gigabyte)
            #expect(nvme.model == "Samsung SSD 980")
            #expect(nvme.serial == "S1")
            #expect(nvme.devicePath == system.dev + "/nvme0n1")
            #expect(inventory.disk(named: "sda")?.transport == .sata)
            #expect(inventory.disk(named: "sda")?.rotational == true)
            #expect(inventory.disk(named: "sda")?.displayModel == "QEMU HARDDISK")
            #expect(inventory.disk(named: "vda")?.transport == .virtio)
            #expect(inventory.disk(named: "vda")?.displayModel == "-")
            #expect(inventory.disk(named: "sdb")?.transport == .usb)
            #expect(inventory.disk(named: "sdb")?.displayModel == "SanDisk Cruzer")
            #expect(inventory.disk(named: "sdb")?.partitions.map(\.name) == ["sdb1", "sdb2", "sdb3"])
            #expect(inventory.disk(named: "loop0")?.virtualKind == "loop device")
            #expect(inventory.disk(named: "sdc")?.partitions.first?.mountPoints == ["/mnt/data disk"])
            #expect(inventory.disk(named: "sde")?.partitions.first?.holders == ["dm-0"])
            #expect(inventory.disk(withPartition: "sdb2")?.name == "sdb")
        }
    }

    @Test func everyDiskHasAVerdictWithItsReason() throws {
        try withScratchDirectory { directory in
            let system = try makeMachine(directory)
            let verdicts = policy().verdicts(try DiskInventory.scan(system.paths))
            func exclusions(_ name: String) -> [DiskExclusion] {
                verdicts.first { $0.disk.name == name }?.exclusions ?? [.empty]
            }
            #expect(exclusions("nvme0n1").isEmpty)
            #expect(exclusions("nvme1n1").isEmpty)
            #expect(exclusions("sda").isEmpty)
            #expect(exclusions("vda").isEmpty)
            #expect(exclusions("sdb") == [.bootMedium, .removable])
            #expect(exclusions("loop0") == [.virtualDevice(kind: "loop device")])
            #expect(exclusions("sdc") == [.mounted(["sdc1 on /mnt/data disk"])])
            #expect(exclusions("sdd") == [.readOnly])
            #expect(exclusions("sde") == [.held(["sde1 held by dm-0"])])
            #expect(exclusions("sdf") == [.tooSmall(size: 4 * gigabyte, required: 8 * gigabyte,
                                                    basis: "the image's GPT ends at byte 8000000000")])
            #expect(exclusions("sdg").isEmpty)

            let reasons = Dictionary(uniqueKeysWithValues: verdicts.map { ($0.disk.name, $0.reason) })
            #expect(reasons["sda"] == "eligible")
            #expect(reasons["sdb"] == "it holds the install medium this machine booted from; the kernel reports it removable (a USB stick or card reader)")
            #expect(reasons["sdc"] == "mounted: sdc1 on /mnt/data disk")
            #expect(reasons["sdd"] == "it is read-only")
            #expect(reasons["sde"] == "in use by stacked devices (LVM, dm-crypt or RAID): sde1 held by dm-0")
            #expect(reasons["sdf"] == "too small: 4.0 GB but 8.0 GB needed (the image's GPT ends at byte 8000000000)")
            #expect(reasons["sdg"]?.hasPrefix("eligible only when named") == true)
            #expect(reasons["loop0"] == "not a disk (loop device)")

            let table = DiskVerdict.table(verdicts, chosen: "nvme0n1")
            #expect(table.count == verdicts.count + 1)
            #expect(table.contains { $0.hasPrefix("* nvme0n1") && $0.contains("256.0 GB") && $0.contains("Samsung SSD 980") })
        }
    }

    @Test(arguments: [(TargetPreference.smallest, "nvme0n1"), (.largest, "nvme1n1")])
    func autoPrefersNVMeThenSize(preference: TargetPreference, expected: String) throws {
        try withScratchDirectory { directory in
            let system = try makeMachine(directory)
            let choice = try policy(preference).choose(.auto, origin: "default", inventory: try DiskInventory.scan(system.paths),
                                                       paths: system.paths)
            #expect(choice.disk.name == expected)
            #expect(choice.reason.contains("the \(preference.rawValue) of 2 eligible NVMe disks"))
            #expect(choice.reason.contains("not preferred: sda (SATA)"))
            #expect(choice.reason.contains("vda (virtio)"))
            #expect(!choice.reason.contains("sdg"), "USB disks are never chosen automatically")
        }
    }

    @Test func autoFallsBackToSATAThenVirtio() throws {
        try withScratchDirectory { directory in
            let system = try makeMachine(directory)
            var inventory = try DiskInventory.scan(system.paths)
            inventory.disks.removeAll { $0.transport == .nvme }
            let sata = try policy().choose(.auto, origin: "default", inventory: inventory, paths: system.paths)
            #expect(sata.disk.name == "sda")
            #expect(sata.reason.contains("the only eligible SATA disk"))

            inventory.disks.removeAll { $0.transport == .sata }
            #expect(try policy().choose(.auto, origin: "default", inventory: inventory, paths: system.paths).disk.name == "vda")

            inventory.disks.removeAll { $0.transport == .virtio }
            let error = #expect(throws: TargetError.self) {
                try policy().choose(.auto, origin: "default", inventory: inventory, paths: system.paths)
            }
            guard case .noEligibleDisk(let lines) = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(lines.contains { $0.hasPrefix("sdb: it holds the install medium") })
            #expect(lines.contains { $0.hasPrefix("sdg: eligible only when named") })
            #expect(!lines.contains { $0.hasPrefix("loop0") })
        }
    }

    @Test func explicitTargetsResolveThroughLinks() throws {
        try withScratchDirectory { directory in
            let system = try makeMachine(directory)
            let inventory = try DiskInventory.scan(system.paths)
            func choose(_ spec: String) throws -> TargetChoice {
                try policy().choose(.device(spec), origin: "/etc/emts/installer.yaml", inventory: inventory, paths: system.paths)
            }
            let byID = try choose("/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001")
            #expect(byID.disk.name == "sda")
            #expect(byID.reason == "named by target in /etc/emts/installer.yaml (/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001 -> sda)")
            #expect(try choose("/dev/disk/by-path/pci-0000:00:04.0-nvme-1").disk.name == "nvme0n1")
            #expect(try choose("/dev/vda").disk.name == "vda")
            #expect(try choose("vda").reason == "named by target in /etc/emts/installer.yaml")
            #expect(try choose("sdg").disk.name == "sdg", "a USB disk may be named")

            #expect(throws: TargetError.partitionGiven(target: "/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part1",
                                                       partition: "sda1", disk: "sda")) {
                try choose("/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part1")
            }
            #expect(throws: TargetError.notEligible(target: "/dev/disk/by-id/usb-SanDisk_Cruzer", disk: "sdb",
                                                    reasons: [DiskExclusion.bootMedium.description,
                                                              DiskExclusion.removable.description])) {
                try choose("/dev/disk/by-id/usb-SanDisk_Cruzer")
            }
            let missing = #expect(throws: TargetError.self) { try choose("/dev/disk/by-id/nothing") }
            #expect(missing?.description == "target /dev/disk/by-id/nothing: no such device or link; disks here: none")
            let unknown = #expect(throws: TargetError.self) { try choose("sdz") }
            #expect(unknown?.description.hasPrefix("target sdz: sdz is not a disk of this machine; disks here: nvme0n1") == true)
        }
    }

    @Test func disksThatJoinTheVolumeGroupAreCheckedLikeATarget() throws {
        try withScratchDirectory { directory in
            let system = try makeMachine(directory)
            let inventory = try DiskInventory.scan(system.paths)
            let target = try #require(inventory.disks.first { $0.name == "nvme0n1" })
            func join(_ specs: [String]) throws -> [String] {
                try policy().joiningDisks(specs, target: target, inventory: inventory, paths: system.paths).map(\.name)
            }
            #expect(try join([]) == [])
            // sdf (4 GB) is too small for the image but may join: no image is written there.
            #expect(try join(["/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001", "vda", "sdf"]) == ["sda", "vda", "sdf"])
            #expect(throws: TargetError.notEligible(target: "storage.lvm_disks[1] nvme0n1", disk: "nvme0n1",
                                                    reasons: ["it is the install target"])) { try join(["nvme0n1"]) }
            #expect(throws: TargetError.notEligible(target: "storage.lvm_disks[2] /dev/vda", disk: "vda",
                                                    reasons: ["named twice"])) { try join(["vda", "/dev/vda"]) }
            for refused in ["sdb", "sdc", "sdd", "sde"] {
                let error = #expect(throws: TargetError.self) { try join([refused]) }
                #expect(error?.description.hasPrefix("target storage.lvm_disks[1] \(refused) (\(refused)) must not be written") == true,
                        "\(String(describing: error))")
            }
            #expect(throws: TargetError.self) { try join(["sda1"]) }
        }
    }

    @Test func sectorSizeMismatchExcludes() {
        let disk = BlockDisk(name: "sda", devicePath: "/dev/sda", sizeBytes: 500 * gigabyte, logicalSectorSize: 4096,
                             transport: .sata)
        #expect(policy().verdict(on: disk).exclusions == [.sectorSize(disk: 4096, image: 512)])
        let unknownImage = TargetPolicy(mediumNames: [], requirement: .unknown, preference: .smallest)
        #expect(unknownImage.verdict(on: disk).isEligible)
    }

    @Test func nvmeMultipathHeadIsARealDiskAndItsPathsAreNot() {
        let head = BlockDisk(name: "nvme0n1", devicePath: "/dev/nvme0n1", sizeBytes: 256 * gigabyte,
                             transport: DiskTransport.detect(sysfsPath: "/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1"),
                             sysfsPath: "/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1")
        #expect(head.transport == .nvme)
        #expect(head.virtualKind == nil)
        #expect(policy().verdict(on: head).isAutomaticCandidate)
        var path = head
        path.name = "nvme0c0n1"
        path.isHidden = true
        #expect(policy().verdict(on: path).exclusions == [.virtualDevice(kind: "hidden multipath device")])
    }

    @Test func transportsFromSysfsPaths() {
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda") == .virtio)
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1") == .nvme)
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1") == .nvme)
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/pci0000:00/0000:00:17.0/ata3/host2/target2:0:0/2:0:0:0/block/sda") == .sata)
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-3/2-3:1.0/host6/target6:0:0/6:0:0:0/block/sdb") == .usb)
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/platform/mmc_host/mmc0/mmc0:0001/block/mmcblk0") == .mmc)
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/pci0000:00/0000:00:03.0/host0/port-0:0/end_device-0:0/target0:0:0/0:0:0:0/block/sda") == .sas)
        #expect(DiskTransport.detect(sysfsPath: "/sys/devices/virtual/block/loop0") == .unknown)
    }

    @Test func sizeRequirementUsesTheLargerOfImageAndConfig() {
        #expect(SizeRequirement(layout: nil, minDiskBytes: nil) == .unknown)
        let config = SizeRequirement(layout: nil, minDiskBytes: 64 * gigabyte)
        #expect(config.bytes == 64 * gigabyte)
        #expect(config.basis == "min_disk_gb (the image has no GPT to measure)")
    }
}
