import ArchiveKit
import PackageKit

/// Appends an injected package's payload to the root filesystem archive being written, streaming from the
/// package file: one entry header at a time, data copied through the rewriter's buffer, nothing unpacked and no
/// payload held in memory.
///
/// Entries go where the plan placed them, with the package's owners, modes (setuid kept), times and link
/// targets; directories the plan leaves out (the root has them) are skipped. Hard links come out in tar's
/// convention, the data on the first link: a Debian data.tar already has it so, while in an RPM's cpio the data
/// travels with the last link of a set, so the earlier links are held back (headers only) until it comes, then
/// written as a file at the first link's path followed by links to it.
struct PackagePayloadAppender {
    let package: InjectedPackage
    /// Added entries are spelled like the archive's own (`./usr/bin/x` after GNU tar).
    let prefix: String

    /// What was written.
    struct Written {
        var entries = 0
        var bytes: Int64 = 0
    }

    /// - Throws: `PackageInjectionError` naming the package file when it cannot be read or no longer matches the
    ///   plan; the writer's errors.
    func append(to writer: ArchiveWriter, buffer: UnsafeMutableRawBufferPointer) throws -> Written {
        var written = Written()
        var planned: [String: InjectedPackage.Entry] = [:]
        for entry in package.entries { planned[entry.source] = entry }
        // RPM hard link sets: the placed first link -> how many links name it.
        var linkCounts: [String: Int] = [:]
        if package.format == .rpm {
            for entry in package.entries { if let head = entry.hardlink { linkCounts[head, default: 0] += 1 } }
        }
        var heldHeads: [String: ArchiveEntry] = [:]
        var heldLinks: [String: [ArchiveEntry]] = [:]
        var seen = 0
        do {
            let archive = try PackageArchive.open(path: package.file)
            guard archive.metadata.name == package.name, archive.metadata.version.description == package.version else {
                throw PackageInjectionError.changedSincePlanned(
                    package: package.file, message: "it is now \(archive.metadata), the plan read \(package.name) \(package.version)")
            }
            let reader = try archive.payload()
            while let source = try reader.next() {
                // The plan refused these; a package file changed since then must not slip one in.
                guard source.kind.isInjectable else {
                    throw PackageInjectionError.specialFile(package: package.file, entry: source.path, kind: source.kind)
                }
                guard let place = planned[source.path] else {
                    guard source.kind == .directory else {
                        throw PackageInjectionError.changedSincePlanned(package: package.file,
                                                                        message: "\(source.path) is not in the plan")
                    }
                    continue
                }
                seen += 1
                var entry = source.rootArchiveEntry
                entry.path = prefix + place.path
                entry.hardlinkTarget = place.hardlink.map { prefix + $0 }
                if entry.kind == .symlink { entry.size = 0 }

                if let head = place.hardlink, let count = linkCounts[head] {
                    // A later link of an RPM set; the last one brings the data.
                    heldLinks[head, default: []].append(entry)
                    guard heldLinks[head]?.count == count, var first = heldHeads.removeValue(forKey: head) else {
                        try reader.skipData()
                        continue
                    }
                    // The first link's own header (mode, owner) stands for the set, as tar extracts it.
                    first.size = source.size
                    try writer.writeHeader(first)
                    try writer.copyData(from: reader, buffer: buffer)
                    written.entries += 1
                    written.bytes += source.size
                    for var link in heldLinks.removeValue(forKey: head) ?? [] {
                        link.size = 0
                        try writer.writeHeader(link)
                        written.entries += 1
                    }
                    continue
                }
                if linkCounts[place.path] != nil {
                    heldHeads[place.path] = entry
                    try reader.skipData()
                    continue
                }
                try writer.writeHeader(entry)
                written.entries += 1
                if entry.carriesData, entry.hardlinkTarget == nil {
                    try writer.copyData(from: reader, buffer: buffer)
                    written.bytes += entry.size
                } else {
                    try reader.skipData()
                }
            }
        } catch let error as PackageError {
            throw PackageInjectionError.package(error)
        }
        guard seen == package.entries.count, heldHeads.isEmpty, heldLinks.isEmpty else {
            throw PackageInjectionError.changedSincePlanned(
                package: package.file, message: "the payload has \(seen) of the \(package.entries.count) planned entries")
        }
        return written
    }
}
