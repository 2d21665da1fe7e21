import ArchiveKit

/// What the first bytes of a segment (or of an archive inside a compressed stream) say it is.
enum InitramfsMagic: Equatable {
    case newc
    case compressed(ArchiveFilter)
    /// A cpio flavour the kernel does not read, described.
    case oldCpio(String)
    /// A compression the kernel reads but libarchive does not.
    case unsupportedCompression(String)
    case unknown

    init(_ head: [UInt8]) {
        func starts(_ prefix: [UInt8]) -> Bool { head.starts(with: prefix) }
        if starts(Array("070701".utf8)) || starts(Array("070702".utf8)) {
            self = .newc
        } else if starts(Array("070707".utf8)) {
            self = .oldCpio("portable ASCII cpio (odc, magic \"070707\")")
        } else if starts([0xC7, 0x71]) || starts([0x71, 0xC7]) {
            self = .oldCpio("old binary cpio (magic 070707 as a 16-bit word)")
        } else if let filter = ArchiveFilter.detect(magic: head) {
            self = .compressed(filter)
        } else if starts([0x5D, 0x00, 0x00]) {
            self = .unsupportedCompression("lzma")
        } else if starts([0x89, 0x4C, 0x5A, 0x4F]) {
            self = .unsupportedCompression("lzo")
        } else {
            self = .unknown
        }
    }
}

/// Reads one segment: its cpio archives in order, then where the segment ends in the file.
final class InitramfsSegmentCursor {
    let index: Int
    let offset: Int64
    let compression: ArchiveFilter
    private(set) var archiveCount = 0
    private(set) var entryCount = 0
    /// Non-fatal messages from libarchive.
    private(set) var warnings: [String] = []
    /// Set once the segment has ended: bytes in the file and bytes of cpio data.
    private(set) var extent: (length: Int64, uncompressed: Int64)?

    private let file: InitramfsFile
    private let range: InitramfsFileRange
    private let stream: InitramfsCpioStream
    private let decompressor: ArchiveReader?
    /// The end of the compressed stream from its framing (zstd, xz, lz4), checked against the decoder's count.
    private let framedEnd: Int64?
    private let unpackLimit: Int64
    /// The last entry handed out, and whether its data is being read (else a header is): errors say where.
    private var lastEntry: (path: String, size: Int64)?
    private var inData = false
    private var cpio: ArchiveReader?
    private var cpioStart: Int64 = 0
    /// Each archive's start in the stream with the zero run before it and the CRC32 there (gzip member checks).
    private var archiveStarts: [(zerosFrom: Int64, crcAtZeros: UInt32?, start: Int64)] = []

    /// `unpackLimit`: bytes the whole initramfs may decompress to, and how many the segments before this one took.
    init(file: InitramfsFile, index: Int, offset: Int64, compression: ArchiveFilter,
         unpackLimit: (total: Int64, before: Int64)) throws {
        self.file = file
        self.index = index
        self.offset = offset
        self.compression = compression
        self.unpackLimit = unpackLimit.total
        if compression == .none {
            framedEnd = nil
            range = InitramfsFileRange(file, from: offset, to: file.size)
            decompressor = nil
            stream = InitramfsCpioStream(range, limit: unpackLimit.total - unpackLimit.before)
            return
        }
        framedEnd = try InitramfsStreamEnd.find(compression, in: file, at: offset, segment: index)
        range = InitramfsFileRange(file, from: offset, to: framedEnd ?? file.size)
        let name = "\(file.path) segment \(index) (\(compression.rawValue) at byte \(offset))"
        let raw: ArchiveReader
        do {
            raw = try ArchiveReader(source: range, name: name, mode: .raw, bufferSize: 256 << 10)
            _ = try raw.next()
        } catch {
            throw Self.decompressionError(error, file: file, index: index, offset: offset, range: range)
        }
        guard raw.filters == [compression] else {
            throw InitramfsError(.corruptCompressedStream, path: file.path, segment: index, offset: offset,
                                 "starts like \(compression.rawValue) but libarchive does not decode it as such "
                                     + "(filters seen: \(raw.filters.map(\.rawValue)))")
        }
        decompressor = raw
        stream = InitramfsCpioStream(raw, checksummed: compression == .gzip, limit: unpackLimit.total - unpackLimit.before)
    }

    /// The next entry and the index of its archive within the segment, or nil at the end of the segment.
    func next() throws -> (archive: Int, entry: ArchiveEntry)? {
        while extent == nil {
            if let cpio {
                let entry: ArchiveEntry?
                inData = false
                do { entry = try cpio.next() } catch { throw cpioError(error) }
                try collectWarnings()
                if let entry {
                    lastEntry = (entry.path, entry.size)
                    inData = true
                    entryCount += 1
                    return (archiveCount - 1, entry)
                }
                try closeArchive(cpio)
                if compression == .none { extent = (stream.position, stream.position) }
                continue
            }
            try openArchiveOrFinish()
        }
        return nil
    }

    /// Reads the current entry's data; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let cpio else { return 0 }
        do {
            let count = try cpio.read(into: buffer)
            try collectWarnings()
            return count
        } catch let error as InitramfsError {
            throw error
        } catch {
            throw cpioError(error)
        }
    }

    func skipData() throws {
        guard let cpio else { return }
        do { try cpio.skipData() } catch { throw cpioError(error) }
        try collectWarnings()
    }

    // MARK: - Archives within the segment

    /// Skips zero padding, then opens the next cpio archive, or records the segment's end.
    private func openArchiveOrFinish() throws {
        let zerosFrom = stream.position
        let crcAtZeros = stream.crc(upTo: zerosFrom)
        let head = try streamStep { _ = try stream.skipZeros(); return try stream.peek(8) }
        if head.isEmpty {
            guard archiveCount > 0 else {
                throw error(.notACpio, at: stream.position, "the compressed stream holds no cpio archive, only "
                                + "\(stream.position) zero bytes")
            }
            try finishCompressedSegment()
            return
        }
        let start = stream.position
        switch InitramfsMagic(head) {
        case .newc:
            break
        case .oldCpio(let flavour):
            throw error(.unsupportedCpioFormat, at: start, "unsupported cpio flavour: \(flavour); the kernel reads only newc "
                            + "(\"070701\" or \"070702\")")
        case .compressed(let filter):
            throw error(.notACpio, at: start, "decompressed data is not a cpio archive: it starts with a \(filter.rawValue) "
                            + "stream (\(head.initramfsHexDump))")
        case .unsupportedCompression, .unknown:
            throw error(.notACpio, at: start, "decompressed data is not a cpio archive: found bytes \(head.initramfsHexDump)")
        }
        let alignedTo = compression == .none ? offset + start : start
        guard alignedTo % 4 == 0 else {
            throw error(.misalignedArchive, at: start, "cpio archive starts at \(compression == .none ? "file" : "stream") "
                            + "offset \(alignedTo), not a multiple of 4 (the kernel rejects it)")
        }
        archiveStarts.append((zerosFrom, crcAtZeros, start))
        let name = "\(file.path) segment \(index) archive \(archiveCount)"
        do {
            // Already decompressed: no filter. ArchiveKit checks each newc header before libarchive parses it
            // (`CpioHeaderError`: a name or symlink target over PATH_MAX, a damaged header).
            cpio = try ArchiveReader(source: stream, name: name, mode: .uncompressedArchive([.cpioNewc]),
                                     bufferSize: 256 << 10)
        } catch {
            throw cpioError(error)
        }
        cpioStart = start
        archiveCount += 1
    }

    /// After TRAILER!!!: moves the stream back to the archive's exact end (libarchive has read ahead).
    private func closeArchive(_ reader: ArchiveReader) throws {
        let end = cpioStart + reader.uncompressedBytesRead
        cpio = nil
        guard stream.rewind(to: end) else {
            throw error(.corruptArchive, at: end, "internal: the cpio reader read further ahead than the stream retains")
        }
    }

    /// The decompressed stream has ended: the decoder has consumed exactly the compressed stream.
    private func finishCompressedSegment() throws {
        guard let decompressor else { return }
        let length = decompressor.compressedBytesRead
        if let framedEnd, offset + length != framedEnd {
            throw InitramfsError(.corruptCompressedStream, path: file.path, segment: index, offset: offset,
                                 "the \(compression.rawValue) decoder stopped at byte \(offset + length) but the stream's "
                                     + "framing ends at byte \(framedEnd)")
        }
        if compression == .gzip { try verifyGzipTrailer(end: offset + length) }
        extent = (length, stream.pulled)
    }

    /// libarchive does not check gzip trailers. The whole stream is checked against the trailer; when several
    /// gzip members lie back to back (libarchive reads them as one stream), the last member is checked: it
    /// must start where an archive or the zero padding before one starts.
    private func verifyGzipTrailer(end: Int64) throws {
        let trailer = try file.bytes(at: end - 8, count: 8)
        guard trailer.count == 8 else { return }
        let storedCRC = UInt32(trailer.initramfsLE(0, bytes: 4))
        let storedSize = Int64(trailer.initramfsLE(4, bytes: 4))
        let total = stream.pulled
        if storedCRC == stream.crc && storedSize == total & 0xFFFF_FFFF { return }
        for boundary in archiveStarts {
            guard let crcAtZeros = boundary.crcAtZeros else { continue }
            var memberStart = total - storedSize
            while memberStart > boundary.start { memberStart -= 1 << 32 }
            guard memberStart > 0, memberStart >= boundary.zerosFrom else { continue }
            let crcBefore = InitramfsCRC32.updateZeros(crcAtZeros, count: memberStart - boundary.zerosFrom)
            let memberCRC = stream.crc ^ InitramfsCRC32.combine(crcBefore, 0, lengthB: total - memberStart)
            if memberCRC == storedCRC { return }
        }
        throw InitramfsError(.corruptCompressedStream, path: file.path, segment: index, offset: offset,
                             "gzip checksum mismatch: the trailer at byte \(end - 8) records CRC32 "
                                 + "\(String(storedCRC, radix: 16)) over \(storedSize) bytes, the data decoded to CRC32 "
                                 + "\(String(stream.crc, radix: 16)) over \(total) bytes")
    }

    // MARK: - Errors

    private func error(_ kind: InitramfsError.Kind, at streamOffset: Int64, _ message: String) -> InitramfsError {
        if compression == .none {
            return InitramfsError(kind, path: file.path, segment: index, offset: offset + streamOffset, message)
        }
        return InitramfsError(kind, path: file.path, segment: index, offset: offset, streamOffset: streamOffset, message)
    }

    /// Runs a stream operation, reporting a decoder failure as such.
    private func streamStep<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw cpioError(error) }
    }

    private func collectWarnings() throws {
        guard let cpio, cpio.warnings.count > warnings.count else { return }
        let new = cpio.warnings[warnings.count...]
        warnings.append(contentsOf: new)
        // libarchive resynchronises after a damaged header ("Skipped N bytes before finding valid header");
        // the kernel would not, so neither do we. (ArchiveKit's header check refuses the damage before
        // libarchive gets to search; this stays in case a libarchive version warns where the check does not.)
        if let skipped = new.first(where: { $0.contains("Skipped") }) {
            throw error(.corruptArchive, at: cpioStart, "damaged cpio archive \(archiveCount - 1): \(skipped)")
        }
    }

    private func cpioError(_ failure: any Error) -> InitramfsError {
        if let failure = failure as? InitramfsError { return failure }
        if let refused = failure as? CpioHeaderError {
            return error(.corruptArchive, at: cpioStart + refused.offset,
                         "damaged cpio archive \(max(archiveCount - 1, 0)): \(refused.message)")
        }
        if failure is InitramfsCpioStream.LimitReached {
            return error(.unpackLimit, at: stream.pulled, "the initramfs unpacks to more than the \(unpackLimit)-byte "
                             + "limit on unpacked size (its segments' cpio data and padding, decompressed): a "
                             + "decompression bomb, or a limit set too low")
        }
        if let upstream = stream.upstreamFailure {
            return Self.decompressionError(upstream, file: file, index: index, offset: offset, range: range)
        }
        let message = (failure as? ArchiveError)?.message ?? "\(failure)"
        let archive = max(archiveCount - 1, 0)
        if stream.atEnd {
            let what = compression == .none ? "the file" : "the decompressed stream"
            // Where it ended says which header lied: a data size (or name size) past the end of the input.
            let place = switch (lastEntry, inData) {
            case (let entry?, true): "in the data of \"\(entry.path)\" (its header declares \(entry.size) bytes)"
            case (let entry?, false): "in the entry header after \"\(entry.path)\""
            case (nil, _): "in its first entry header"
            }
            let detail = message.hasPrefix("libarchive error") ? "" : ": \(message)"
            return error(.truncatedSegment, at: stream.pulled, "\(what) ends inside cpio archive \(archive) "
                             + "(\(stream.pulled - cpioStart) bytes after its start), \(place)\(detail)")
        }
        return error(.corruptArchive, at: cpioStart, "damaged cpio archive \(archive): \(message)")
    }

    private static func decompressionError(_ failure: any Error, file: InitramfsFile, index: Int, offset: Int64,
                                           range: InitramfsFileRange) -> InitramfsError {
        if let failure = failure as? InitramfsError { return failure }
        let archiveError = failure as? ArchiveError
        let message = archiveError?.message ?? "\(failure)"
        // libarchive says "truncated" for most decoders; some stop without a message when the input runs out.
        let generic = message.hasPrefix("libarchive error")
        if message.lowercased().contains("truncated") || (generic && range.exhausted) {
            let detail = generic ? "the file ends before the stream does" : message
            return InitramfsError(.truncatedSegment, path: file.path, segment: index, offset: offset,
                                  "compressed stream is cut off: \(detail)")
        }
        return InitramfsError(.corruptCompressedStream, path: file.path, segment: index, offset: offset,
                              "compressed stream does not decode: \(message)")
    }
}
