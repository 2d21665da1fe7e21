import Foundation

/// How a boot medium is attached to the test machine.
public enum MediaKind: String, Sendable, CaseIterable, Codable {
    /// A CD-ROM on the SATA (AHCI) controller.
    case cd
    /// A USB stick: xhci + usb-storage, removable.
    case usb
    /// A fixed virtio disk.
    case disk
}

/// The bus a target disk sits on.
public enum DiskBus: String, Sendable, CaseIterable, Codable {
    case nvme, sata, virtio
}

/// A disk image attached to the machine, identified inside the guest by its serial number.
public struct TargetDisk: Sendable, Hashable {
    public var image: URL
    public var bus: DiskBus
    public var serial: String

    public init(image: URL, bus: DiskBus, serial: String) {
        self.image = image
        self.bus = bus
        self.serial = serial
    }
}

/// What the machine boots.
public enum BootSource: Sendable, Hashable {
    /// Direct kernel boot (`-kernel/-initrd/-append`), the fastest way to boot a µOS.
    case kernel(kernel: URL, initrd: URL?, commandLine: String)
    /// A medium (ISO or disk image) attached as `media`; `writable` lets the guest change it
    /// (otherwise writes go to a throw-away overlay).
    case medium(image: URL, media: MediaKind, writable: Bool)
    /// Nothing but the target disks and what the firmware's boot entries name (a machine after an install).
    case disks
}

/// The accelerator QEMU runs the guest with.
public enum Accelerator: String, Sendable, Codable {
    case kvm, tcg
}

/// A complete description of one test machine; `arguments` turns it into QEMU's command line.
public struct MachineSpec: Sendable {
    public var firmware: Firmware
    public var source: BootSource
    public var disks: [TargetDisk]
    public var memoryMiB: Int
    public var cpus: Int
    /// A user-mode virtio NIC (DHCP from QEMU's built-in server), for guests that need a network.
    public var network: Bool
    public var extraArguments: [String]
    /// UEFI only: the variable store this machine keeps (created from the firmware's template when missing),
    /// so boot entries written by one boot are there at the next. `nil`: a fresh copy for every boot.
    public var variableStore: URL?

    public init(firmware: Firmware = .bios, source: BootSource, disks: [TargetDisk] = [],
                memoryMiB: Int = 2048, cpus: Int = 1, network: Bool = false, extraArguments: [String] = [],
                variableStore: URL? = nil) {
        self.firmware = firmware
        self.source = source
        self.disks = disks
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.network = network
        self.extraArguments = extraArguments
        self.variableStore = variableStore
    }

    /// Files the machine reads, checked before QEMU starts so a missing one is named clearly.
    public var inputs: [URL] {
        var files: [URL] = disks.map(\.image)
        switch source {
        case .kernel(let kernel, let initrd, _): files.append(kernel); if let initrd { files.append(initrd) }
        case .medium(let image, _, _): files.append(image)
        case .disks: break
        }
        return files
    }

    /// QEMU's arguments (without the executable). `varsCopy` is this run's writable copy of the UEFI
    /// variable store; the serial console goes to QEMU's standard output.
    public func arguments(accelerator: Accelerator, varsCopy: URL?) throws -> [String] {
        var machine = "q35"
        if firmware.enforcesSecureBoot { machine += ",smm=on" }
        var args = [
            "-machine", machine, "-accel", accelerator.rawValue,
            // KVM passes the host CPU through; TCG emulates the richest model it has.
            "-cpu", accelerator == .kvm ? "host" : "max",
            "-m", String(memoryMiB), "-smp", String(cpus),
            "-display", "none", "-nodefaults", "-no-reboot",
            "-serial", "stdio", "-monitor", "none",
        ]
        if let images = firmware.images {
            guard let varsCopy else { throw BootTestError.invalidSpec("UEFI firmware needs a copy of the variable store") }
            args += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=\(images.code)",
                     "-drive", "if=pflash,format=raw,unit=1,file=\(varsCopy.path)"]
            if firmware.enforcesSecureBoot {
                args += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
            }
        }
        switch source {
        case .kernel(let kernel, let initrd, let commandLine):
            args += ["-kernel", kernel.path]
            if let initrd { args += ["-initrd", initrd.path] }
            args += ["-append", commandLine]
        case .medium(let image, let media, let writable):
            let overlay = writable ? "" : ",snapshot=on"
            switch media {
            case .cd:
                args += ["-drive", "if=none,id=medium,format=raw,media=cdrom,readonly=on,file=\(image.path)",
                         "-device", "ide-cd,drive=medium,bus=ide.0,bootindex=0"]
            case .usb:
                args += ["-device", "qemu-xhci,id=xhci",
                         "-drive", "if=none,id=medium,format=raw,file=\(image.path)\(overlay)",
                         "-device", "usb-storage,id=\(MachineMonitor.mediumDevice),bus=xhci.0,drive=medium,removable=on,"
                            + "serial=EMTS-MEDIUM,bootindex=0"]
            case .disk:
                args += ["-drive", "if=none,id=medium,format=raw,file=\(image.path)\(overlay)",
                         "-device", "virtio-blk-pci,drive=medium,serial=EMTS-MEDIUM,bootindex=0"]
            }
        case .disks:
            // No bootindex anywhere: the firmware follows its own BootOrder.
            break
        }
        // AHCI ports: ide.0 holds the CD; SATA targets take the next ports in order.
        var sataPort = 1
        for (index, disk) in disks.enumerated() {
            let id = "target\(index)"
            args += ["-drive", "if=none,id=\(id),format=raw,file=\(disk.image.path)"]
            switch disk.bus {
            case .nvme: args += ["-device", "nvme,drive=\(id),serial=\(disk.serial)"]
            case .virtio: args += ["-device", "virtio-blk-pci,drive=\(id),serial=\(disk.serial)"]
            case .sata:
                guard sataPort < 6 else { throw BootTestError.invalidSpec("at most 5 SATA target disks") }
                args += ["-device", "ide-hd,drive=\(id),bus=ide.\(sataPort),serial=\(disk.serial)"]
                sataPort += 1
            }
        }
        if network { args += ["-nic", "user,model=virtio-net-pci"] }
        return args + extraArguments
    }
}
