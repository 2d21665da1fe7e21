@testable import BootTest
import Foundation
import Testing

@Suite struct MachineSpecTests {
    let iso = URL(fileURLWithPath: "/tmp/emt-s.iso")

    func value(after flag: String, in args: [String]) -> [String] {
        args.indices.filter { args[$0] == flag && $0 + 1 < args.count }.map { args[$0 + 1] }
    }

    @Test func directKernelBoot() throws {
        let spec = MachineSpec(source: .kernel(kernel: URL(fileURLWithPath: "/k"), initrd: URL(fileURLWithPath: "/i"),
                                               commandLine: "root=tmpfs console=ttyS0"))
        let args = try spec.arguments(accelerator: .tcg, varsCopy: nil)
        #expect(value(after: "-kernel", in: args) == ["/k"])
        #expect(value(after: "-initrd", in: args) == ["/i"])
        #expect(value(after: "-append", in: args) == ["root=tmpfs console=ttyS0"])
        #expect(value(after: "-accel", in: args) == ["tcg"])
        #expect(value(after: "-machine", in: args) == ["q35"])
        #expect(!args.contains { $0.hasPrefix("if=pflash") }, "SeaBIOS needs no flash")
        #expect(args.contains("-no-reboot"))
    }

    @Test func secureBootUsesSecbootCodeSMMAndSecureFlash() throws {
        let vars = URL(fileURLWithPath: "/tmp/vars.fd")
        let spec = MachineSpec(firmware: .uefiSnakeoil, source: .medium(image: iso, media: .usb, writable: false))
        let args = try spec.arguments(accelerator: .tcg, varsCopy: vars)
        #expect(value(after: "-machine", in: args) == ["q35,smm=on"])
        #expect(args.contains("driver=cfi.pflash01,property=secure,value=on"))
        let flash = value(after: "-drive", in: args).filter { $0.hasPrefix("if=pflash") }
        #expect(flash == ["if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
                          "if=pflash,format=raw,unit=1,file=/tmp/vars.fd"])
    }

    @Test func plainUEFIDoesNotEnforceSecureBoot() throws {
        let spec = MachineSpec(firmware: .uefi, source: .medium(image: iso, media: .cd, writable: false))
        let args = try spec.arguments(accelerator: .kvm, varsCopy: URL(fileURLWithPath: "/v"))
        #expect(value(after: "-machine", in: args) == ["q35"])
        #expect(!args.contains("driver=cfi.pflash01,property=secure,value=on"))
        #expect(value(after: "-accel", in: args) == ["kvm"])
    }

    @Test func uefiWithoutVarsCopyIsRefused() {
        let spec = MachineSpec(firmware: .uefi, source: .medium(image: iso, media: .cd, writable: false))
        #expect(throws: BootTestError.self) { try spec.arguments(accelerator: .tcg, varsCopy: nil) }
    }

    @Test(arguments: MediaKind.allCases)
    func mediumIsTheFirstBootDevice(media: MediaKind) throws {
        let spec = MachineSpec(source: .medium(image: iso, media: media, writable: false))
        let args = try spec.arguments(accelerator: .tcg, varsCopy: nil)
        let devices = value(after: "-device", in: args)
        let drive = value(after: "-drive", in: args).first { $0.contains("id=medium") }
        #expect(drive?.contains("file=/tmp/emt-s.iso") == true)
        #expect(devices.contains { $0.contains("drive=medium") && $0.contains("bootindex=0") })
        switch media {
        case .cd:
            #expect(drive?.contains("media=cdrom") == true)
            #expect(devices.contains { $0.hasPrefix("ide-cd,") })
        case .usb:
            #expect(devices.contains("qemu-xhci,id=xhci"))
            #expect(devices.contains { $0.hasPrefix("usb-storage,") && $0.contains("removable=on") })
            #expect(drive?.hasSuffix(",snapshot=on") == true, "a read-only medium is protected by an overlay")
        case .disk:
            #expect(devices.contains { $0.hasPrefix("virtio-blk-pci,drive=medium") })
        }
    }

    @Test func targetDisksGetTheirBusAndSerial() throws {
        let disks = [
            TargetDisk(image: URL(fileURLWithPath: "/d/nvme.img"), bus: .nvme, serial: "NVME1"),
            TargetDisk(image: URL(fileURLWithPath: "/d/sata.img"), bus: .sata, serial: "SATA1"),
            TargetDisk(image: URL(fileURLWithPath: "/d/sata2.img"), bus: .sata, serial: "SATA2"),
            TargetDisk(image: URL(fileURLWithPath: "/d/vd.img"), bus: .virtio, serial: "VIRT1"),
        ]
        let spec = MachineSpec(source: .medium(image: iso, media: .cd, writable: false), disks: disks, network: true)
        let args = try spec.arguments(accelerator: .tcg, varsCopy: nil)
        let devices = value(after: "-device", in: args)
        #expect(devices.contains("nvme,drive=target0,serial=NVME1"))
        #expect(devices.contains("ide-hd,drive=target1,bus=ide.1,serial=SATA1"))
        #expect(devices.contains("ide-hd,drive=target2,bus=ide.2,serial=SATA2"))
        #expect(devices.contains("virtio-blk-pci,drive=target3,serial=VIRT1"))
        #expect(value(after: "-nic", in: args) == ["user,model=virtio-net-pci"])
    }

    @Test func tooManySATADisksIsRefused() {
        let disks = (0 ..< 6).map { TargetDisk(image: URL(fileURLWithPath: "/d/\($0)"), bus: .sata, serial: "S\($0)") }
        let spec = MachineSpec(source: .medium(image: iso, media: .cd, writable: false), disks: disks)
        #expect(throws: BootTestError.self) { try spec.arguments(accelerator: .tcg, varsCopy: nil) }
    }

    @Test func inputsListEveryFileTheMachineReads() {
        let spec = MachineSpec(source: .kernel(kernel: URL(fileURLWithPath: "/k"), initrd: URL(fileURLWithPath: "/i"), commandLine: ""),
                               disks: [TargetDisk(image: URL(fileURLWithPath: "/t"), bus: .nvme, serial: "X")])
        #expect(Set(spec.inputs.map(\.path)) == ["/k", "/i", "/t"])
    }
}
