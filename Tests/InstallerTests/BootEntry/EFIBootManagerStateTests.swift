@testable import Installer
import Testing

/// `efibootmgr -v` on OVMF after an earlier EMT-S install (efibootmgr 17/18: a tab before the path).
let ovmfListing = """
    BootCurrent: 0002
    Timeout: 0 seconds
    BootOrder: 0004,0002,0000,0001,0003
    Boot0000* UiApp\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)
    Boot0001* UEFI QEMU DVD-ROM QM00003 \tPciRoot(0x0)/Pci(0x1f,0x2)/Sata(0,65535,0){auto_created_boot_option}
    Boot0002* UEFI QEMU USB HARDDRIVE 1-0000:00:04.0-1\tPciRoot(0x0)/Pci(0x4,0x0)/USB(0,0){auto_created_boot_option}
    Boot0003  EFI Internal Shell\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)
    Boot0004* EMT-S\tHD(1,GPT,9b0c5a4e-7e3f-4b8e-9d0e-3b4f1e2a6c7d,0x800,0x100000)/File(\\EFI\\BOOT\\BOOTX64.EFI)
          dp: 04 01 2a 00 01 00 00 00 00 08 00 00 00 00 00 00
    """

@Suite struct EFIBootManagerStateTests {
    @Test func parsesVerboseListing() {
        let state = EFIBootManagerState(parsing: ovmfListing)
        #expect(state.bootCurrent == "0002")
        #expect(state.bootOrder == ["0004", "0002", "0000", "0001", "0003"])
        #expect(state.entries.map(\.number) == ["0000", "0001", "0002", "0003", "0004"])
        #expect(state.entries.map(\.label) == ["UiApp", "UEFI QEMU DVD-ROM QM00003", "UEFI QEMU USB HARDDRIVE 1-0000:00:04.0-1",
                                               "EFI Internal Shell", "EMT-S"])
        #expect(state.entries.map(\.active) == [true, true, true, false, true])
        #expect(state.entries.last?.devicePath == #"HD(1,GPT,9b0c5a4e-7e3f-4b8e-9d0e-3b4f1e2a6c7d,0x800,0x100000)/File(\EFI\BOOT\BOOTX64.EFI)"#)
        #expect(state.entries(labelled: "EMT-S").map(\.number) == ["0004"])
    }

    @Test func parsesOldSpaceSeparatedAndPlainListings() {
        let old = EFIBootManagerState(parsing: """
            BootCurrent: 0001
            BootNext: 0003
            BootOrder: 0001,0000
            Boot0000* Linux Boot Manager HD(1,GPT,aa,0x800,0x32000)/File(\\EFI\\systemd\\systemd-bootx64.efi)
            Boot0001* EMT-S HD(1,GPT,bb,0x800,0x100000)/File(\\EFI\\BOOT\\BOOTX64.EFI)RC
            Boot0003* Windows Boot Manager
            """)
        #expect(old.bootNext == "0003")
        #expect(old.entries.map(\.label) == ["Linux Boot Manager", "EMT-S", "Windows Boot Manager"])
        #expect(old.entries[0].devicePath == #"HD(1,GPT,aa,0x800,0x32000)/File(\EFI\systemd\systemd-bootx64.efi)"#)
        #expect(old.entries[2].devicePath == nil)

        let empty = EFIBootManagerState(parsing: "Timeout: 1 seconds\nNo BootOrder is set; firmware will attempt recovery\n")
        #expect(empty.bootOrder.isEmpty)
        #expect(empty.entries.isEmpty)
    }
}
