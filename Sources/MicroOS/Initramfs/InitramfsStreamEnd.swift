import ArchiveKit

/// Finds where a compressed segment ends from the stream's own framing, without decompressing it.
///
/// libarchive's count of compressed bytes consumed (`ArchiveReader.compressedBytesRead`) is exact for gzip
/// and bzip2 whatever follows, and their decoders stop cleanly before zero padding or another format. The
/// zstd, xz and lz4 decoders do not: zero padding or a different stream after them makes them fail before
/// they hand out their last decompressed block (zstd "Unknown frame descriptor", xz "Corrupted input data",
/// legacy lz4 "decompression failed"), and the lz4 frame decoder consumes 4 bytes past its end. For those
/// the segment's end is computed here from the framing and the decoder is given exactly those bytes.
enum InitramfsStreamEnd {
    /// The end offset of the stream starting at `offset`, or nil when the decoder's own count is exact.
    /// Streams of the same format directly back to back form one segment, as the decoders read them as one.
    static func find(_ filter: ArchiveFilter, in file: InitramfsFile, at offset: Int64, segment: Int) throws -> Int64? {
        let walker = FrameWalker(file: file, start: offset, segment: segment)
        switch filter {
        case .none, .gzip, .bzip2: return nil
        case .zstd: return try walker.zstd()
        case .lz4: return try walker.lz4()
        case .xz: return try walker.xz()
        }
    }
}

private struct FrameWalker {
    let file: InitramfsFile
    let start: Int64
    let segment: Int

    func truncated(_ what: String) -> InitramfsError {
        InitramfsError(.truncatedSegment, path: file.path, segment: segment, offset: start,
                       "compressed stream is cut off: \(what) (the file ends at byte \(file.size))")
    }

    func corrupt(_ what: String) -> InitramfsError {
        InitramfsError(.corruptCompressedStream, path: file.path, segment: segment, offset: start, what)
    }

    /// Exactly `count` bytes at `offset`, or a truncation error naming `what`.
    func need(_ count: Int, at offset: Int64, _ what: @autoclosure () -> String) throws -> [UInt8] {
        let bytes = try file.bytes(at: offset, count: count)
        guard bytes.count == count else { throw truncated("\(what()) at byte \(offset) is cut off") }
        return bytes
    }

    func magic(at offset: Int64) throws -> UInt32? {
        let bytes = try file.bytes(at: offset, count: 4)
        return bytes.count == 4 ? UInt32(bytes.initramfsLE(0, bytes: 4)) : nil
    }

    func checkedEnd(_ end: Int64, _ what: String) throws -> Int64 {
        guard end <= file.size else { throw truncated("\(what) runs to byte \(end)") }
        return end
    }

    static let skippableFrames: ClosedRange<UInt32> = 0x184D_2A50 ... 0x184D_2A5F

    /// Skippable frame (zstd and lz4 share them): 4-byte magic, 4-byte length, payload.
    func skippable(at offset: Int64) throws -> Int64 {
        let size = try need(8, at: offset, "skippable frame header").initramfsLE(4, bytes: 4)
        return try checkedEnd(offset + 8 + Int64(size), "skippable frame")
    }

    // MARK: zstd (RFC 8878): frame header, then blocks with 3-byte headers, then an optional checksum.

    func zstd() throws -> Int64 {
        var position = start
        while let magic = try magic(at: position) {
            if magic == 0xFD2F_B528 {
                position = try zstdFrame(at: position)
            } else if Self.skippableFrames.contains(magic) {
                position = try skippable(at: position)
            } else {
                break
            }
        }
        return position
    }

    private func zstdFrame(at frame: Int64) throws -> Int64 {
        let descriptor = try need(1, at: frame + 4, "zstd frame header")[0]
        guard descriptor & 0x08 == 0 else { throw corrupt("zstd frame at byte \(frame) sets a reserved header bit") }
        let singleSegment = descriptor & 0x20 != 0
        let contentSizeBytes: Int64 = [singleSegment ? 1 : 0, 2, 4, 8][Int(descriptor >> 6)]
        let dictionaryBytes: Int64 = [0, 1, 2, 4][Int(descriptor & 0x03)]
        var position = frame + 5 + (singleSegment ? 0 : 1) + dictionaryBytes + contentSizeBytes
        while true {
            let header = try need(3, at: position, "zstd block header").initramfsLE(0, bytes: 3)
            let size = Int64(header >> 3)
            position += 3
            switch (header >> 1) & 0x03 {
            case 0, 2: position += size  // raw or compressed: `size` bytes follow
            case 1: position += 1  // RLE: one byte repeated `size` times
            default: throw corrupt("zstd block at byte \(position - 3) has the reserved block type")
            }
            if header & 1 != 0 { break }
            _ = try checkedEnd(position, "zstd block")
        }
        if descriptor & 0x04 != 0 { position += 4 }
        return try checkedEnd(position, "zstd frame starting at byte \(frame)")
    }

    // MARK: lz4: frames (magic 04 22 4d 18) and the legacy format the kernel writes (02 21 4c 18).

    static let legacyBlockLimit: UInt64 = 8_388_608 + 8_388_608 / 255 + 16  // LZ4_compressBound(8 MiB)

    func lz4() throws -> Int64 {
        var position = start
        while let magic = try magic(at: position) {
            if magic == 0x184D_2204 {
                position = try lz4Frame(at: position)
            } else if magic == 0x184C_2102 {
                position = try lz4Legacy(at: position)
            } else if Self.skippableFrames.contains(magic) {
                position = try skippable(at: position)
            } else {
                break
            }
        }
        return position
    }

    private func lz4Frame(at frame: Int64) throws -> Int64 {
        let flags = try need(1, at: frame + 4, "lz4 frame descriptor")[0]
        guard flags >> 6 == 1 else { throw corrupt("lz4 frame at byte \(frame) has version \(flags >> 6), not 1") }
        let blockChecksum = flags & 0x10 != 0
        var position = frame + 7 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        while true {
            let size = try need(4, at: position, "lz4 block header").initramfsLE(0, bytes: 4)
            position += 4
            if size == 0 { break }  // end mark
            position += Int64(size & 0x7FFF_FFFF) + (blockChecksum ? 4 : 0)
            _ = try checkedEnd(position, "lz4 block")
        }
        if flags & 0x04 != 0 { position += 4 }
        return try checkedEnd(position, "lz4 frame starting at byte \(frame)")
    }

    /// Legacy lz4 has no end mark: the kernel reads blocks to the end of the initramfs. Blocks are followed
    /// while their size is plausible; whatever comes after (zeros, another stream) is then checked as padding
    /// or the next segment, so nothing is silently skipped.
    private func lz4Legacy(at stream: Int64) throws -> Int64 {
        var position = stream + 4
        while position + 4 <= file.size {
            let size = try need(4, at: position, "lz4 block size").initramfsLE(0, bytes: 4)
            guard size != 0, size <= Self.legacyBlockLimit else { break }
            position = try checkedEnd(position + 4 + Int64(size), "legacy lz4 block at byte \(position)")
        }
        return position
    }

    // MARK: xz: the end of a stream is its 12-byte footer, found by scanning.

    /// Block headers need not record compressed sizes, so the stream cannot be walked; instead the first
    /// footer that validates is taken: at a 4-byte multiple from the stream start, "YZ" magic, the stream
    /// header's flags, a correct CRC32, and a backward size pointing at an index whose own CRC32 matches.
    func xz() throws -> Int64 {
        var streamStart = start
        while true {
            let header = try need(12, at: streamStart, "xz stream header")
            guard header.prefix(6) == [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00] else { return streamStart }
            let end = try xzStreamEnd(from: streamStart, flags: Array(header[6 ..< 8]))
            streamStart = end
            guard try file.bytes(at: end, count: 6) == [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00] else { return end }
        }
    }

    private func xzStreamEnd(from stream: Int64, flags: [UInt8]) throws -> Int64 {
        let blockSize = 1 << 20
        var base = stream  // file offset of window[0]; kept at a 4-byte multiple from `stream`
        var window = [UInt8]()
        while base < file.size {
            window = try file.bytes(at: base, count: blockSize + 12)
            // Candidate footers end at window[end]: offsets relative to `stream` that are multiples of 4.
            var end = 12
            while end <= window.count {
                let footerEnd = base + Int64(end)
                if footerEnd - stream >= 32, window[end - 2] == 0x59, window[end - 1] == 0x5A,
                   window[end - 4] == flags[0], window[end - 3] == flags[1],
                   try xzFooterValid(Array(window[end - 12 ..< end]), endingAt: footerEnd, stream: stream) {
                    return footerEnd
                }
                end += 4
            }
            if window.count < blockSize + 12 { break }
            base += Int64(blockSize)
        }
        throw truncated("xz stream has no valid stream footer before the end of the file")
    }

    private func xzFooterValid(_ footer: [UInt8], endingAt footerEnd: Int64, stream: Int64) throws -> Bool {
        guard InitramfsCRC32.checksum(Array(footer[4 ..< 10])) == UInt32(footer.initramfsLE(0, bytes: 4)) else {
            return false
        }
        let indexSize = (Int64(footer.initramfsLE(4, bytes: 4)) + 1) * 4
        let indexStart = footerEnd - 12 - indexSize
        guard indexStart >= stream + 12, indexSize <= 64 << 20 else { return false }
        let index = try file.bytes(at: indexStart, count: Int(indexSize))
        guard index.count == indexSize, index[0] == 0x00 else { return false }
        return InitramfsCRC32.checksum(Array(index.dropLast(4))) == UInt32(index.initramfsLE(index.count - 4, bytes: 4))
    }
}
