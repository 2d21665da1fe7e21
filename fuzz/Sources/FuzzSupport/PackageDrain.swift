import PackageKit

// What the RPM and .deb targets do with a package once it is open: the metadata the resolver reads, and the
// payload read to its end.

/// Compares the version with itself and a fixed one, and reads every requirement (the resolver's inputs).
public func touch(_ metadata: PackageMetadata) {
    _ = metadata.description
    _ = metadata.version.compare(to: PackageVersion(parsing: "1:2.0-1", format: metadata.format))
    for requirement in metadata.requirements { _ = "\(requirement)" }
    for provide in metadata.allProvides { _ = "\(provide)" }
}

/// Every entry, its data streamed, read whole, or skipped in turn.
public func drain(_ payload: PackagePayloadReader) throws(PackageError) {
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
