import DiskKit
import Foundation
import Installer

let gibibyte: UInt64 = 1 << 30

/// A disk image of `size` bytes after an EMT image was written to it and its backup GPT moved to the end:
/// p1 `esp` 1-101 MiB, p2 `rootfs` of `rootfsMiB`, p3 `edge_persistent` of 512 MiB, the rest free.
/// Returns the sector after partition 3.
@discardableResult
func makeInstalledDisk(_ path: String, size: UInt64, rootfsMiB: Int64 = 1024, persistentMiB: Int64 = 512) throws -> Int64 {
    let mib: Int64 = 2048
    let rootfsStart = 101 * mib
    let persistentStart = rootfsStart + rootfsMiB * mib
    let end = persistentStart + persistentMiB * mib
    try makeSparseFile(path, size: size)
    try makeGPT(path, partitions: [
        PartitionSpec(start: mib, end: rootfsStart - 1, fileSystemType: "fat32", name: "esp", flags: [.esp]),
        PartitionSpec(start: rootfsStart, end: persistentStart - 1, fileSystemType: "ext4", name: "rootfs"),
        PartitionSpec(start: persistentStart, end: end - 1, fileSystemType: "ext4", name: "edge_persistent"),
    ])
    return end
}

/// The request of the tests: 8 GiB of RAM on a single disk unless told otherwise.
func storageRequest(_ layout: StorageRequest.Layout, lvm: Double? = nil, swap: Double? = nil, reservedMB: Int = 5120,
             memory: UInt64 = 8 * gibibyte, singleDisk: Bool = true) -> StorageRequest {
    StorageRequest(layout: layout, lvmSizeGB: lvm, swapGB: swap, reservedMB: reservedMB, memoryBytes: memory,
                   singleDisk: singleDisk)
}

/// A `veritysetup format` transcript as cryptsetup 2.6 prints it.
func verityOutput(rootHash: String) -> String {
    """
    VERITY header information for /dev/sda4
    UUID:            \t5d7d9b0e-7a57-4a1d-9a6d-7a2b3d9c1e11
    Hash type:       \t1
    Data blocks:     \t262144
    Data block size: \t4096
    Hash block size: \t4096
    Hash algorithm:  \tsha256
    Salt:            \t1b0f6b5c0e1c4f1f9f1e5f5d6a6e0f4c3b2a1908f7e6d5c4b3a291807f6e5d4c
    Root hash:      \t\(rootHash)

    """
}
