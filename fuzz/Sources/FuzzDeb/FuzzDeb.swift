import FuzzSupport
import PackageKit

/// Reads the input as a .deb: the ar container, control.tar (control paragraph, relations, md5sums,
/// conffiles), then streams data.tar, reading every entry's data.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, as: "input.deb")
    do throws(PackageError) {
        let package = try DebianPackage(path: path)
        touch(package.metadata)
        _ = package.md5sums
        _ = package.conffiles
        let payload = try package.payload()
        try drain(payload)
    } catch {}
    return 0
}
