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

/// Compares the version with itself and a fixed one, and reads every requirement (the resolver's inputs).
func touch(_ metadata: PackageMetadata) {
    _ = metadata.description
    _ = metadata.version.compare(to: PackageVersion(parsing: "1:2.0-1", format: metadata.format))
    for requirement in metadata.requirements { _ = "\(requirement)" }
    for provide in metadata.allProvides { _ = "\(provide)" }
}

/// Every entry, its data streamed, read whole, or skipped in turn.
func drain(_ payload: PackagePayloadReader) throws(PackageError) {
    let chunk = 64 << 10
    var count = 0
    while let entry = try payload.next() {
        count += 1
        switch count % 3 {
        case 0:
            let pointer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
            defer { pointer.deallocate() }
            while try payload.read(into: pointer) > 0 {}
        case 1:
            _ = try payload.readAll(limit: 1 << 20)
        default:
            if entry.size > 0 { try payload.skipData() }
        }
    }
    _ = payload.warnings
}
