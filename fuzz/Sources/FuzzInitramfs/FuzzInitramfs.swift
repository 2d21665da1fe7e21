import ArchiveKit
import FuzzSupport
import MicroOS

/// Reads the input as an initramfs: every segment (plain or compressed newc cpio, zero padding), every entry
/// and its data, then the layout; as `emts-iso build` and `inspect` read one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, as: "initramfs")
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    do {
        // 64 MiB of unpacked data at most: a bomb stops with an error, not with a timeout.
        let reader = try InitramfsReader(path: path, unpackLimit: 64 << 20)
        var count = 0
        while let item = try reader.next() {
            count += 1
            // Alternate between streaming the data, reading it whole and leaving it to next().
            switch count % 3 {
            case 0:
                while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) > 0 {}
            case 1:
                _ = try reader.readAll(limit: 1 << 20)
            default:
                if item.entry.size > 0 { try reader.skipData() }
            }
        }
        _ = reader.layout
        _ = reader.warnings
    } catch {}
    do {
        _ = try Initramfs.find(path: path)
    } catch {}
    return 0
}
