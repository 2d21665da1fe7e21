import ArchiveKit
import DeflateKit
import Foundation
import XZKit

/// Reads the µOS initramfs and writes the edited one, in one streaming pass each, never unpacking anything
/// onto the disk.
///
/// The nested root filesystem archive is rewritten entry by entry: unchanged entries are copied with all their
/// metadata, planned removals are skipped, planned additions are appended. Its compression runs on a second
/// thread. The new nested archive goes into a plain cpio segment of its own: it is already compressed, so
/// compressing it again would only cost time, and a plain segment lets its size be written after its data.
/// The kernel unpacks every segment into the same root, so the result is the same tree.
public enum MicroOSRewriter {
    static let copyBufferSize = 1 << 20

    /// Streams through the initramfs and the nested archive once, indexing the root filesystem. Each archive is
    /// held to `options.limits` header by header, before its data is decompressed.
    /// - Throws: `InitramfsError`, `ArchiveError`, `EditPlanError` (an unsafe entry path) or `MicroOSError`
    ///   (`.unpackLimit` naming the archive and the limit it passes).
    public static func scan(initramfs path: String, options: RewriteOptions = RewriteOptions()) throws -> MicroOSScan {
        try naming(path) { try scanning(try InitramfsReader(path: path, unpackLimit: options.limits.totalBytes), options: options) }
    }

    /// Scans the initramfs that is the byte `range` of the file at `path` (the initramfs on an ISO image),
    /// calling it `name` in errors.
    public static func scan(initramfs path: String, range: Range<Int64>, name: String,
                            options: RewriteOptions = RewriteOptions()) throws -> MicroOSScan {
        try naming(name) {
            try scanning(try InitramfsReader(path: path, range: range, name: name, unpackLimit: options.limits.totalBytes),
                         options: options)
        }
    }

    /// Runs `body`, turning an entry's rejection into an error that also names the archive it is in.
    static func naming<T>(_ input: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as EditPlanError {
            // A host file names itself; everything else is about an entry of `input`.
            if case .hostFile = error { throw error }
            throw MicroOSError.rejected(input: input, reason: error)
        }
    }

    private static func scanning(_ reader: InitramfsReader, options: RewriteOptions) throws -> MicroOSScan {
        let path = reader.path
        var index = RootfsIndex()
        var nested: NestedArchiveFacts?
        var outerEntries = 0
        var outerFileBytes: Int64 = 0
        var outer = RootfsIndex(contentLimit: 0)
        var outerBudget = UnpackBudget(options.limits, input: path)
        var splice: NestedSpliceMap?
        while let item = try reader.next() {
            let entry = item.entry
            try outerBudget.admit(entry)
            try outer.add(entry)
            if entry.kind == .regular { outerFileBytes += entry.size }
            guard options.isNested(entry.path), entry.kind == .regular else {
                outerEntries += 1
                try reader.skipData()
                continue
            }
            guard options.rootfs == .nested else {
                throw MicroOSError.nestedArchiveAlreadyPresent(input: path, name: entry.path)
            }
            guard nested == nil else { throw MicroOSError.nestedArchiveTwice(input: path, name: entry.path) }
            let name = "\(path):/\(Initramfs.normalizedName(entry.path))"
            // The outer archive is decompressed on a second thread while this one inflates and indexes the nested
            // one; the reader is this thread's again once that thread has stopped.
            let ahead = ThreadedSource(reader.entryData(), name: "emts-read")
            defer { ahead.stop() }
            let (tar, indexer, recorder) = try nestedReader(ahead, name: name)
            nested = try Self.index(tar, name: name, path: entry.path, bytes: entry.size, drop: nil,
                                    limits: options.limits, recorder: recorder, into: &index)
            if let indexer, let recorder {
                nested?.compression = .gzip
                splice = try finishSpliceMap(tar: tar, indexer: indexer, recorder: recorder, compressedBytes: entry.size)
            }
            ahead.stop()
        }
        if case .tarball(let tarball) = options.rootfs {
            let tar = try ArchiveReader(path: tarball, mode: .archive([.tarPax]))
            nested = try Self.index(tar, name: tarball, path: options.nestedName, bytes: fileSize(tarball),
                                    drop: UOSTarball.isDropped, limits: options.limits, into: &index)
            outerFileBytes += nested!.bytes
        }
        guard let nested else {
            throw MicroOSError.nestedArchiveMissing(input: path, name: options.nestedName)
        }
        return MicroOSScan(index: index, layout: try reader.finishedLayout(), nested: nested, outerEntries: outerEntries,
                           outerFileBytes: outerFileBytes, nestedSplice: splice)
    }

    /// Indexes the root filesystem archive, leaving out what `drop` names.
    private static func index(_ tar: ArchiveReader, name: String, path: String, bytes: Int64, drop: ((String) -> Bool)?,
                              limits: UnpackLimits, recorder: NestedSpliceRecorder? = nil,
                              into index: inout RootfsIndex) throws -> NestedArchiveFacts {
        var facts = NestedArchiveFacts(path: path, compression: .none, entries: 0, bytes: bytes, unpackedBytes: 0)
        var budget = UnpackBudget(limits, input: name)
        while let inner = try tar.next() {
            try budget.admit(inner)
            let normalized = try RootPath.normalize(inner.path)
            let position = tar.headerPosition
            if let drop, drop(normalized) {
                try tar.skipData()
                continue
            }
            try index.add(inner)
            recorder?.add(inner, normalized: normalized, at: position)
            facts.entries += 1
            if inner.kind == .regular, inner.hardlinkTarget == nil { facts.unpackedBytes += inner.size }
            if index.wantsContents(of: normalized) {
                index.recordContents(try tar.readAll(limit: index.contentReadLimit), of: normalized)
            }
        }
        facts.compression = tar.filters.first ?? .none
        return facts
    }

    /// Writes the initramfs at `path` edited by `plan` to `output`, atomically: the result appears under
    /// `output` only when complete; on any failure nothing is left behind.
    ///
    /// With `splice` (the scan's `nestedSplice` of the same file) a gzip nested archive is spliced: only the
    /// deflate blocks around the removed entries and the new end are compressed again (at
    /// `options.spliceLevel`). Without it, the nested archive is recompressed as a whole.
    /// - Throws: what `scan` throws, plus `FileStreamError` for the output and `MicroOSError`.
    public static func rewrite(initramfs path: String, plan: EditPlan, output: String,
                               options: RewriteOptions = RewriteOptions(), splice: NestedSpliceMap? = nil,
                               progress: ((RewriteProgress) -> Void)? = nil) throws -> RewriteReport {
        guard RewriteOptions.outerCompressions.contains(options.outerCompression) else {
            throw MicroOSError.unbootableCompression(options.outerCompression.rawValue)
        }
        let temporary = try TemporaryOutput(for: output)
        do {
            var report = try naming(path) {
                try rewrite(path, plan: plan, into: temporary.file, options: options, splice: splice, progress: progress)
            }
            try temporary.commit()
            report.output = output
            return report
        } catch {
            temporary.discard()
            throw error
        }
    }

    private static func rewrite(_ path: String, plan: EditPlan, into file: FileSink, options: RewriteOptions,
                                splice: NestedSpliceMap?, progress: ((RewriteProgress) -> Void)?) throws -> RewriteReport {
        let reader = try InitramfsReader(path: path, unpackLimit: options.limits.totalBytes)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: copyBufferSize, alignment: 16)
        defer { buffer.deallocate() }

        var segment = OuterSegment(file: file, output: file.path)
        var nestedIn: NestedArchiveFacts?
        var nestedOut: NestedArchiveFacts?
        var outerEntries = 0
        var outerFileBytes: Int64 = 0
        var removed = 0
        var added = 0
        var dropped: [String] = []
        var spliceFigures: SpliceFigures?
        var inputSegment = -1
        var outer = RootfsIndex(contentLimit: 0)
        var outerBudget = UnpackBudget(options.limits, input: path)
        // A spliced archive's new end is written and compressed from the start, while the outer archive and the
        // original blocks are copied.
        let tail = splice.map { SplicedTail(plan: plan, prefix: $0.prefix, level: options.spliceLevel,
                                            name: "\(path):/\(options.nestedName)") }
        defer { tail?.stop() }
        while let item = try reader.next() {
            let entry = item.entry
            try outerBudget.admit(entry)
            try outer.add(entry)
            if item.segment != inputSegment {
                // Each input segment starts a new output segment, so a plain early cpio stays first and plain.
                try segment.finish()
                inputSegment = item.segment
            }
            let compression = item.compression == .none ? ArchiveFilter.none : options.outerCompression
            if options.isNested(entry.path), entry.kind == .regular {
                guard options.rootfs == .nested else {
                    throw MicroOSError.nestedArchiveAlreadyPresent(input: path, name: entry.path)
                }
                guard nestedIn == nil else { throw MicroOSError.nestedArchiveTwice(input: path, name: entry.path) }
                try segment.finish()
                let name = "\(path):/\(Initramfs.normalizedName(entry.path))"
                var header = entry
                header.size = 0
                let result: NestedResult
                if let splice, let tail, splice.compressedBytes == entry.size {
                    result = try spliceNested(reader.entryData(), map: splice, name: name, header: header,
                                              bytes: entry.size, plan: plan, tail: tail, level: options.spliceLevel,
                                              into: file, progress: progress)
                } else {
                    tail?.stop()
                    let nested = try nestedReader(reader.entryData(), name: name)
                    result = try rewriteNested(nested.tar, name: name, header: header, bytes: entry.size, drop: nil,
                                               inflated: nested.indexer, plan: plan,
                                               into: file, options: options, buffer: buffer, progress: progress)
                }
                nestedIn = result.input
                nestedOut = result.output
                removed = result.removed
                added = result.added
                spliceFigures = result.splice
                outerFileBytes += result.output.bytes
                continue
            }
            outerEntries += 1
            if entry.kind == .regular { outerFileBytes += entry.size }
            let writer = try segment.writer(compression: compression, options: options.outerFilterOptions(for: compression))
            try writer.writeHeader(entry)
            if entry.carriesData { try writer.copyData(from: reader, buffer: buffer) } else { try reader.skipData() }
        }
        try segment.finish()
        if case .tarball(let tarball) = options.rootfs {
            // The µOS image tarball becomes the nested archive, without its kernel files and tmp.
            let tar = try ArchiveReader(path: tarball, mode: .archive([.tarPax]))
            let header = ArchiveEntry.file(options.nestedName, size: 0, permissions: 0o644,
                                           mtime: ArchiveTime(seconds: fileMtime(tarball)))
            let result = try rewriteNested(tar, name: tarball, header: header, bytes: fileSize(tarball),
                                           drop: UOSTarball.isDropped, plan: plan, into: file, options: options,
                                           buffer: buffer, progress: progress)
            nestedIn = result.input
            nestedOut = result.output
            removed = result.removed
            added = result.added
            dropped = result.dropped
            outerFileBytes += result.output.bytes
        }
        guard let nestedIn, let nestedOut else {
            throw MicroOSError.nestedArchiveMissing(input: path, name: options.nestedName)
        }
        try file.close()
        return RewriteReport(
            input: path, output: file.path, inputLayout: try reader.finishedLayout(), outputBytes: file.offset,
            outerCompression: options.outerCompression, outerEntries: outerEntries,
            nestedIn: nestedIn, nestedOut: nestedOut, removed: removed, added: added, dropped: dropped,
            ramNeededBytes: file.offset + outerFileBytes + nestedOut.unpackedBytes, splice: spliceFigures)
    }

    struct NestedResult {
        var input: NestedArchiveFacts
        var output: NestedArchiveFacts
        var removed: Int
        var added: Int
        var dropped: [String]
        var splice: SpliceFigures? = nil
    }

    /// Copies the root filesystem archive entry by entry through the plan (leaving out what `drop` names) into a
    /// plain cpio segment of its own, named by `header`. `inflated` is the gzip stream `tar` reads through, when
    /// `nestedReader` inflates it (libarchive then sees a plain tar).
    private static func rewriteNested(_ tar: ArchiveReader, name: String, header: ArchiveEntry, bytes: Int64,
                                      drop: ((String) -> Bool)?, inflated: GzipIndexingSource? = nil,
                                      plan: EditPlan, into file: FileSink,
                                      options: RewriteOptions, buffer: UnsafeMutableRawBufferPointer,
                                      progress: ((RewriteProgress) -> Void)?) throws -> NestedResult {
        var inputFacts = NestedArchiveFacts(path: header.path, compression: .none, entries: 0, bytes: bytes, unpackedBytes: 0)
        var outputFacts = inputFacts
        var removed = 0
        var dropped: [String] = []
        var pipeline: NestedPipeline?
        defer { pipeline?.abandon() }
        // Added entries are spelled like the archive's own ("./etc/x" after GNU tar, "etc/x" otherwise).
        var prefix: String?
        // The rewrite checks each entry itself, so it is safe without a scan first: paths only (no data).
        var seen = RootfsIndex(contentLimit: 0)
        var budget = UnpackBudget(options.limits, input: name)
        func report(_ done: Int64) {
            progress?(RewriteProgress(phase: "rewriting \(header.path)", bytesDone: done, bytesTotal: bytes))
        }

        var read = 0
        while let inner = try tar.next() {
            try budget.admit(inner)
            read += 1
            if read % 256 == 0 { report(inflated?.compressedBytesRead ?? tar.compressedBytesRead) }
            if pipeline == nil {
                // The nested compression is known once the first header has been read.
                inputFacts.compression = inflated != nil ? .gzip : tar.filters.first ?? .none
                pipeline = try NestedPipeline(file: file, header: header, name: name, compression: inputFacts.compression,
                                              options: options.nestedFilterOptions(inputFacts.compression))
            }
            let normalized = try RootPath.normalize(inner.path)
            try seen.add(inner)
            if prefix == nil, !normalized.isEmpty { prefix = inner.path.hasPrefix("./") ? "./" : "" }
            if let drop, drop(normalized) {
                if !normalized.hasPrefix("tmp/") { dropped.append(normalized) }
                try tar.skipData()
                continue
            }
            // What the root filesystem holds (a µOS tarball's kernel files and tmp/ are not part of it).
            inputFacts.entries += 1
            if inner.kind == .regular, inner.hardlinkTarget == nil { inputFacts.unpackedBytes += inner.size }
            if plan.removes(normalized) {
                removed += 1
                try tar.skipData()
                continue
            }
            if let link = inner.hardlinkTarget, plan.removes(try RootPath.normalize(link)) {
                throw MicroOSError.removedHardlinkTarget(input: name, entry: inner.path, target: link)
            }
            try pipeline!.writer.writeHeader(inner)
            outputFacts.entries += 1
            if inner.kind == .regular, inner.hardlinkTarget == nil { outputFacts.unpackedBytes += inner.size }
            if inner.carriesData { try pipeline!.writer.copyData(from: tar, buffer: buffer) } else { try tar.skipData() }
        }
        guard var pipeline else { throw MicroOSError.nestedArchiveEmpty(input: name) }
        let appended = try appendPlanned(plan, prefix: prefix ?? "", to: pipeline.writer, buffer: buffer)
        outputFacts.entries += appended.entries
        outputFacts.unpackedBytes += appended.bytes
        outputFacts.bytes = try pipeline.finish()
        report(bytes)
        outputFacts.compression = inputFacts.compression
        return NestedResult(input: inputFacts, output: outputFacts, removed: removed,
                            added: appended.entries, dropped: dropped)
    }

    /// Appends the plan's additions, then the injected packages' payloads (which stream from their files,
    /// after the directories and records the additions hold), spelled with `prefix`. Returns the entries and
    /// file bytes written.
    static func appendPlanned(_ plan: EditPlan, prefix: String, to writer: ArchiveWriter,
                              buffer: UnsafeMutableRawBufferPointer) throws -> (entries: Int, bytes: Int64) {
        var entries = 0
        var bytes: Int64 = 0
        for addition in plan.additions {
            var added = addition.archiveEntry
            added.path = prefix + added.path
            added.size = addition.size
            try writer.writeHeader(added)
            entries += 1
            if added.kind == .regular {
                bytes += added.size
                try addition.source?.copy(into: writer, buffer: buffer)
            }
        }
        for package in plan.packages.packages {
            let written = try PackagePayloadAppender(package: package, prefix: prefix).append(to: writer, buffer: buffer)
            entries += written.entries
            bytes += written.bytes
        }
        return (entries, bytes)
    }

    /// The nested archive's writer options. pax keeps every xattr (security.selinux), long name and big file;
    /// it writes extended headers only where an entry needs one. xattrs only as SCHILY.xattr records, which GNU
    /// tar and busybox read (libarchive would add a second, LIBARCHIVE.xattr copy that GNU tar warns about).
    static let nestedTarOptions = [ArchiveOption(module: "pax", key: "xattrheader", value: "SCHILY")]
}

/// The nested archive's writing pipeline: tar writer → (thread) → compressor → cpio entry in the output file.
private struct NestedPipeline {
    let writer: ArchiveWriter
    private let threaded: ThreadedSink
    private let compressor: CompressingSink
    private let entry: CpioStreamEntry
    private var done = false

    init(file: FileSink, header: ArchiveEntry, name: String, compression: ArchiveFilter, options: [ArchiveOption]) throws {
        entry = try CpioStreamEntry(in: file, entry: header)
        compressor = try CompressingSink(into: entry, name: name, filter: compression, options: options)
        threaded = ThreadedSink(compressor, name: "emts-compress")
        writer = try ArchiveWriter(sink: threaded, name: name, format: .tarPax, options: MicroOSRewriter.nestedTarOptions)
    }

    /// Ends the archive, drains the compressor, completes the cpio entry; returns the compressed size.
    mutating func finish() throws -> Int64 {
        try writer.close()
        try threaded.close()
        try compressor.close()
        try entry.finish()
        done = true
        return entry.size
    }

    func abandon() {
        if !done { threaded.abandon() }
    }
}

/// The output's current outer cpio segment: opened on the first entry that needs it, closed (and padded to the
/// 4-byte boundary the kernel requires between segments) when the input's segment ends or the nested archive
/// interrupts it.
private struct OuterSegment {
    let file: FileSink
    let output: String
    private var writer: ArchiveWriter?
    private var xz: KernelXZSink?
    private var compression: ArchiveFilter = .none

    init(file: FileSink, output: String) {
        self.file = file
        self.output = output
    }

    mutating func writer(compression: ArchiveFilter, options: [ArchiveOption]) throws -> ArchiveWriter {
        if let writer, self.compression == compression { return writer }
        try finish()
        let writer: ArchiveWriter
        if compression == .xz {
            // libarchive's xz carries CRC64 checks, which the kernel cannot verify: liblzma writes it instead.
            let xz = try KernelXZSink(into: file, name: output)
            self.xz = xz
            writer = try ArchiveWriter(sink: xz, name: output, format: .cpioNewc)
        } else {
            writer = try ArchiveWriter(sink: file, name: output, format: .cpioNewc, filter: compression, options: options)
        }
        self.writer = writer
        self.compression = compression
        return writer
    }

    mutating func finish() throws {
        guard let writer else { return }
        try writer.close()
        try xz?.close()
        self.writer = nil
        xz = nil
        try file.pad(toMultipleOf: 4)
    }
}

extension RewriteOptions {
    func outerFilterOptions(for filter: ArchiveFilter) -> [ArchiveOption] {
        filter == outerCompression ? outerFilterOptions : []
    }
}

extension InitramfsReader {
    /// The layout, which the reader knows once it has read past the last entry.
    func finishedLayout() throws -> InitramfsLayout {
        guard let layout else {
            throw MicroOSError.output(path: path, message: "the initramfs was not read to its end")
        }
        return layout
    }
}

func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

func fileMtime(_ path: String) -> Int64 {
    Int64(((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
}
