import FuzzSupport
import ISOKit
import InstallMedium
import MicroOS

/// Reads the input as an ISO image, as `emts-iso inspect` and `kargs` do: the directory check and libisofs's
/// import, every entry (small files read, extents listed), El Torito and the system area; then as an install
/// medium: the tag file, partition tables, the kargs map and each kargs area's command line, the payload
/// records, and the µOS initramfs scanned in place. The FAT partitions are left out (`mtools` subprocesses).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, as: "input.iso")
    do throws(ISOError) {
        let image = try ISOImage(reading: path)
        _ = image.volumeID
        _ = image.features
        for entry in try image.entries() {
            guard case .file = entry.kind else { continue }
            _ = try? image.extents(of: entry.path)
            if entry.size <= 1 << 20 { _ = try? image.contents(of: entry.path) }
        }
        _ = try? image.elToritoEntries()
        _ = image.elToritoReport()
        _ = image.systemAreaReport()
        // The µOS on the medium, held to small limits so a compressed bomb ends in an error, not a timeout.
        if let extent = try image.extents(of: "/boot/initramfs.img").first {
            let start = Int64(extent.offset)
            let limits = UnpackLimits(totalBytes: 64 << 20, entryBytes: 16 << 20, entries: 100_000)
            _ = try? MicroOSRewriter.scan(initramfs: path, range: start ..< start + Int64(extent.size),
                                          name: "\(path):/boot/initramfs.img", options: RewriteOptions(limits: limits))
        }
    } catch {}
    do {
        let medium = try MediumImage(path: path)
        _ = medium.buildID
        _ = try? medium.elTorito()
        _ = try? medium.partitions()
        _ = try? medium.kargsMap()
        _ = try? medium.kernelCommandLines()
        _ = try? medium.payloads()
    } catch {}
    return 0
}
