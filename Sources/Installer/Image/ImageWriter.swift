import ArchiveKit
import DiskKit
import Foundation

/// Writes a compressed OS image to the target disk, verified, so that a failure never leaves a disk that
/// boots half a system.
///
/// One pass over the medium: the compressed file is hashed (sha256) as it is read and decompressed (gzip,
/// zstd or xz, by its magic) on the calling thread, while a second thread writes the output in large
/// aligned chunks (`ThreadedSink`, bounded queue: memory stays near `chunkSize * (queueDepth + 2)` plus the
/// held-back head).
///
/// Order of writes:
/// 1. zero the first and last MiB of the target (old partition tables go first: an interrupted install
///    leaves a blank disk, not a stale table over new data);
/// 2. stream everything after the first MiB of the image;
/// 3. check the sha256 of the whole compressed file against the medium's checksum;
/// 4. only then write the held-back first MiB (protective MBR + primary GPT) and fsync;
/// 5. move the backup GPT to the end of a larger disk, and have the kernel re-read the table.
/// A failure in 2-4 zeroes the first and last MiB again and says so in the error; a failure in 1 leaves the
/// disk as it was (nothing of the image was written), a failure in 5 leaves the verified image in place.
public struct ImageWriter: Sendable {
    /// Bytes per write to the target.
    public var chunkSize: Int
    /// Chunks that may wait for the writer thread.
    public var queueDepth: Int
    /// Bytes written between write-backs (fdatasync + dropping the pages from the cache).
    public var writebackInterval: UInt64
    /// Monotonic seconds, for the report's duration.
    public var clock: @Sendable () -> Double

    public init(chunkSize: Int = 4 << 20, queueDepth: Int = 4, writebackInterval: UInt64 = 64 << 20,
                clock: @escaping @Sendable () -> Double = ImageWriter.monotonicSeconds) {
        self.chunkSize = chunkSize
        self.queueDepth = queueDepth
        self.writebackInterval = writebackInterval
        self.clock = clock
    }

    /// Seconds from a monotonic clock.
    @Sendable public static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Writes `image` to `target` (a block device, or a regular file of the disk's size in tests).
    /// - Parameter progress: called on the calling thread after every chunk read.
    /// - Throws: `ImageWriteError` naming the target: the image unreadable, damaged or not matching its
    ///   checksum (`isVerificationFailure`), an I/O error on the target, an image larger than the target, or
    ///   a failure after the verified write. Before the image is verified, the target is wiped on failure.
    public func write(_ image: OSImage, to target: String,
                      progress: (WriteProgress) -> Void = { _ in }) throws(ImageWriteError) -> ImageWriteReport {
        let started = clock()
        let device: TargetDevice
        do {
            device = try TargetDevice(path: target)
        } catch {
            throw ImageWriteError(target: target, problem: .target(error.reason), wipe: .notNeeded)
        }
        do {
            try device.zeroSignatureAreas()
        } catch {
            // Nothing of the image was written: whatever the disk held before is still all it holds.
            throw ImageWriteError(target: target, problem: .target(error.reason), wipe: .notNeeded)
        }

        let streamed: (head: [UInt8], bytes: UInt64, sha256: String)
        do {
            streamed = try stream(image, to: device, progress: progress)
        } catch var failure {
            do {
                try device.zeroSignatureAreas()
                failure.wipe = .wiped
            } catch {
                failure.wipe = .failed(error.reason)
            }
            // The kernel should forget partitions it may have seen; a failure here changes nothing on disk.
            try? device.rereadPartitionTable()
            throw failure
        }
        device.close()

        var warnings: [String] = []
        var moved = false
        let layout = ImageLayout(head: streamed.head)
        if let layout, device.capacity > layout.requiredBytes {
            do {
                moved = try DiskDevice.relocateBackupGPT(at: target)
            } catch {
                throw ImageWriteError(target: target, problem: .finishing(step: "moving the backup GPT to the end of the disk",
                                                                          reason: error.message), wipe: .notNeeded)
            }
        } else if layout == nil {
            warnings.append("the image has no GPT in its first MiB: its partition table was written as is")
        }

        var reread = false
        if device.isBlockDevice {
            do {
                let reopened = try TargetDevice(path: target)
                defer { reopened.close() }
                try reopened.rereadPartitionTable()
                reread = true
            } catch {
                warnings.append("the kernel did not re-read the partition table of \(target) (\(error.reason)); "
                    + "it will on the next boot")
            }
        }
        return ImageWriteReport(target: target, bytesWritten: streamed.bytes, compressedBytes: image.compressedBytes,
                                sha256: streamed.sha256, seconds: max(0, clock() - started), backupGPTMoved: moved,
                                partitionTableReread: reread, warnings: warnings)
    }

    /// Steps 2-4: stream, verify, write the head. Returns the head, the bytes written and the digest.
    private func stream(_ image: OSImage, to device: TargetDevice,
                        progress: (WriteProgress) -> Void) throws(ImageWriteError) -> ([UInt8], UInt64, String) {
        let headSize = ImageLayout.headSize
        var writer: ThreadedSink?
        defer { writer?.abandon() }
        do {
            let source = try HashingFileSource(path: image.path)
            let reader = try ArchiveReader(source: source, name: image.path, mode: .raw)
            guard try reader.next() != nil else { throw ImageError.empty(path: image.path) }
            guard reader.filters == [image.compression.filter] else {
                throw ImageError.compressionMismatch(path: image.path, expected: image.compression,
                                                     found: reader.filters.map(\.rawValue).joined(separator: "+").nonEmpty
                                                         ?? "uncompressed data")
            }
            let sink = TargetDeviceSink(device: device, startOffset: UInt64(headSize),
                                        writebackInterval: writebackInterval)
            let threaded = ThreadedSink(sink, name: "install-os writer", chunkSize: chunkSize, depth: queueDepth)
            writer = threaded

            var head: [UInt8] = []
            head.reserveCapacity(headSize)
            var produced: UInt64 = 0
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buffer.deallocate() }
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                var rest = UnsafeRawBufferPointer(rebasing: buffer[0 ..< count])
                if head.count < headSize {
                    let take = min(headSize - head.count, rest.count)
                    head.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[rest.startIndex ..< rest.startIndex + take]))
                    rest = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + take)...])
                }
                if !rest.isEmpty { try threaded.write(rest) }
                produced += UInt64(count)
                progress(WriteProgress(compressedRead: source.bytesRead, compressedTotal: image.compressedBytes,
                                       bytesOut: produced))
            }
            try threaded.close()
            try source.drain()
            guard produced > 0 else { throw ImageError.empty(path: image.path) }

            let digest = source.hexDigest
            guard digest == image.expectedSHA256 else {
                throw ImageError.checksumMismatch(path: image.path, expected: image.expectedSHA256, actual: digest)
            }
            try device.write(head, at: 0)
            try device.sync()
            progress(WriteProgress(compressedRead: source.bytesRead, compressedTotal: image.compressedBytes,
                                   bytesOut: produced))
            return (head, produced, digest)
        } catch let error as ImageError {
            throw failure(.image(error))
        } catch let error as ArchiveError {
            throw failure(.image(.damaged(path: image.path, compression: image.compression, message: error.message)))
        } catch let error as TargetIOError {
            if case .noSpace = error.kind {
                throw failure(.imageLargerThanTarget(capacity: device.capacity, reason: error.reason))
            }
            throw failure(.target(error.reason))
        } catch {
            throw failure(.target("\(error)"))
        }

        func failure(_ problem: ImageWriteError.Problem) -> ImageWriteError {
            ImageWriteError(target: device.path, problem: problem, wipe: .notNeeded)
        }
    }
}
