import FuzzSupport
import PackageKit

/// Reads the input as an .rpm: lead, signature, header (metadata, dependencies, file list), then streams the
/// cpio payload, reading every entry's data.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, as: "input.rpm")
    do throws(PackageError) {
        let package = try RPMPackage(path: path)
        touch(package.metadata)
        _ = package.files.count
        let payload = try package.payload()
        try drain(payload)
    } catch {}
    return 0
}
