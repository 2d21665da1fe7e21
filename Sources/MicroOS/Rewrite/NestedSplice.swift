import ArchiveKit
import DeflateKit
import StreamKit

/// What the scan learns about a gzip nested archive so that the rewrite can splice it (`GzipSplicer`) rather
/// than inflate and deflate all of it again: the deflate index, and where each tar entry lies in the
/// uncompressed stream. Removing an entry then costs recompressing the blocks around it; the blocks of
/// every other entry are copied as they are, and the planned additions are compressed after the last one.
public struct NestedSpliceMap: Sendable {
    struct Entry: Sendable {
        /// Normalized path.
        var path: String
        /// Its header (extension headers included) up to the next entry's.
        var range: Range<Int64>
        /// Bytes of file data it unpacks to (regular files that are not hard links).
        var fileBytes: Int64
        /// A hard link: its path and target as spelled, and the normalized target.
        var hardlink: (path: String, target: String, normalized: String)?
    }

    var index: DeflateIndex
    var entries: [Entry]
    /// Where the end-of-archive marker starts.
    var tarEnd: Int64
    /// How the archive spells its paths ("./etc/x" or "etc/x"), for the added entries.
    var prefix: String
    /// The compressed archive's size: the rewrite splices only the same stream.
    var compressedBytes: Int64

}

/// Collects entry positions while the scan reads the nested archive.
final class NestedSpliceRecorder {
    private(set) var entries: [NestedSpliceMap.Entry] = []
    private(set) var prefix: String?

    /// Records an entry the index accepted (so its hard link target is a safe path).
    func add(_ entry: ArchiveEntry, normalized: String, at position: Int64) {
        if var last = entries.popLast() {
            last.range = last.range.lowerBound ..< position
            entries.append(last)
        }
        if prefix == nil, !normalized.isEmpty { prefix = entry.path.hasPrefix("./") ? "./" : "" }
        let fileBytes = entry.kind == .regular && entry.hardlinkTarget == nil ? entry.size : 0
        entries.append(NestedSpliceMap.Entry(path: normalized, range: position ..< position, fileBytes: fileBytes,
                                             hardlink: entry.hardlinkTarget.map { (entry.path, $0, (try? RootPath.normalize($0)) ?? $0) }))
    }

    /// The map, once the archive was read to its end marker at `tarEnd` and the gzip stream to its end.
    func map(index: DeflateIndex, tarEnd: Int64, compressedBytes: Int64) -> NestedSpliceMap? {
        guard index.isSpliceable, tarEnd <= index.uncompressedBytes else { return nil }
        var entries = entries
        if var last = entries.popLast() {
            last.range = last.range.lowerBound ..< tarEnd
            entries.append(last)
        }
        // Positions must rise: anything else (a damaged archive that libarchive read anyway) is not spliced.
        guard zip(entries, entries.dropFirst()).allSatisfy({ $0.range.upperBound <= $1.range.lowerBound }),
              entries.allSatisfy({ $0.range.lowerBound < $0.range.upperBound }) else { return nil }
        return NestedSpliceMap(index: index, entries: entries, tarEnd: tarEnd, prefix: prefix ?? "",
                               compressedBytes: compressedBytes)
    }
}

extension MicroOSRewriter {
    /// Reads the nested archive in `data` for the scan: a gzip stream is inflated here (and indexed, with each
    /// entry's position recorded, for `spliceNested`), anything else is left to libarchive's filters.
    static func nestedReader(_ data: any ByteSource, name: String) throws
        -> (tar: ArchiveReader, indexer: GzipIndexingSource?, recorder: NestedSpliceRecorder?) {
        let peeked = try PrefixedSource(peeking: 3, from: data)
        guard GzipIndexingSource.isGzip(peeked.prefix) else {
            return (try ArchiveReader(source: peeked, name: name, mode: .archive([.tarPax])), nil, nil)
        }
        let indexer = try GzipIndexingSource(source: peeked, name: name)
        return (try ArchiveReader(source: indexer, name: name, mode: .archive([.tarPax])), indexer, NestedSpliceRecorder())
    }

    /// Completes the splice map after the scan's last entry: the rest of the gzip stream (the tar's zero
    /// padding) is inflated up to `slack` bytes, to check its trailer; past that, the archive is not spliced.
    static func finishSpliceMap(tar: ArchiveReader, indexer: GzipIndexingSource, recorder: NestedSpliceRecorder,
                                compressedBytes: Int64, slack: Int = 64 << 20) throws -> NestedSpliceMap? {
        let tarEnd = tar.headerPosition
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var drained = 0
        while drained <= slack {
            let count = try indexer.read(into: buffer)
            if count == 0 {
                return recorder.map(index: indexer.index, tarEnd: tarEnd, compressedBytes: compressedBytes)
            }
            drained += count
        }
        return nil
    }

    /// Writes the nested archive as `map` describes it, with the plan's removals left out and its additions
    /// appended, by splicing the original gzip stream (read again from `source`). `tail` is the additions,
    /// started (`SplicedTail`) with the same plan and `map.prefix`.
    static func spliceNested(_ source: any ByteSource, map: NestedSpliceMap, name: String, header: ArchiveEntry,
                             bytes: Int64, plan: EditPlan, tail: SplicedTail, level: Int, into file: FileSink,
                             progress: ((RewriteProgress) -> Void)?) throws -> NestedResult {
        let input = NestedArchiveFacts(path: header.path, compression: .gzip, entries: map.entries.count, bytes: bytes,
                                       unpackedBytes: map.entries.reduce(0) { $0 + $1.fileBytes })
        var output = input
        var removed: [Range<Int64>] = []
        var removedCount = 0
        for entry in map.entries {
            if plan.removes(entry.path) {
                removedCount += 1
                output.unpackedBytes -= entry.fileBytes
                if let last = removed.last, last.upperBound == entry.range.lowerBound {
                    removed[removed.count - 1] = last.lowerBound ..< entry.range.upperBound
                } else {
                    removed.append(entry.range)
                }
            } else if let link = entry.hardlink, plan.removes(link.normalized) {
                throw MicroOSError.removedHardlinkTarget(input: name, entry: link.path, target: link.target)
            }
        }
        let entry = try CpioStreamEntry(in: file, entry: header)
        let splicer = try GzipSplicer(index: map.index, removing: removed, keepingUpTo: map.tarEnd,
                                      level: Int32(level), into: entry, name: name)
        let phase = "rewriting \(header.path)"
        try splicer.copy(from: source) { done in
            progress?(RewriteProgress(phase: phase, bytesDone: done, bytesTotal: bytes))
        }
        while let piece = try tail.deflater.next() { try splicer.append(piece) }
        let appended = try tail.join()
        try splicer.finish()
        try entry.finish()
        output.entries += appended.entries - removedCount
        output.unpackedBytes += appended.bytes
        output.bytes = entry.size
        return NestedResult(input: input, output: output, removed: removedCount, added: appended.entries, dropped: [],
                            splice: SpliceFigures(recompressedRuns: splicer.recompressedRuns,
                                                  bytesInflated: splicer.bytesInflated,
                                                  bytesDeflated: splicer.bytesDeflated))
    }
}

/// The spliced archive's new end: the plan's additions written as tar entries (on a thread of its own) into a
/// `ParallelDeflater`. They do not depend on the original's bytes, so they are written and compressed (on
/// every core, in pieces) while the rewrite copies the outer archive and the original blocks, and wait in
/// memory for the copy to end.
final class SplicedTail: Sendable {
    let deflater: ParallelDeflater
    private let writing: BackgroundTask<(entries: Int, bytes: Int64)>

    init(plan: EditPlan, prefix: String, level: Int, name: String) {
        let deflater = ParallelDeflater(level: Int32(level), name: name)
        self.deflater = deflater
        writing = BackgroundTask(name: "emts-append") {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: MicroOSRewriter.copyBufferSize, alignment: 16)
            defer { buffer.deallocate() }
            do {
                let writer = try ArchiveWriter(sink: deflater, name: name, format: .tarPax,
                                               options: MicroOSRewriter.nestedTarOptions)
                let appended = try MicroOSRewriter.appendPlanned(plan, prefix: prefix, to: writer, buffer: buffer)
                try writer.close()
                try deflater.close()
                return appended
            } catch {
                // The consumer must not wait for pieces that will never come: it gets this error instead.
                deflater.fail(error)
                throw error
            }
        }
    }

    /// Waits for the writing thread; returns what it appended or rethrows its failure.
    func join() throws -> (entries: Int, bytes: Int64) {
        try writing.value()
    }

    /// Stops the compression (a writer waiting for buffer space then fails) and waits for the thread: after a
    /// failure elsewhere, or when the tail was not used. Harmless after `join`.
    func stop() {
        deflater.abandon()
        writing.wait()
    }
}
