import Crypto
import DiskKit
import Foundation
import Glibc
import StreamKit

/// What `emts-iso flash` writes to: a whole removable disk (checked against sysfs and the mount table) or a
/// regular image file.
public struct FlashTarget: Sendable {
    public enum Kind: Sendable {
        case disk(BlockDisk)
        case imageFile
    }

    public var path: String
    public var kind: Kind
    /// Bytes available (unbounded for an image file).
    public var capacity: UInt64

    /// "SanDisk Ultra, 29.8 GiB, USB, removable" or "an image file".
    public var summary: String {
        switch kind {
        case let .disk(disk):
            return "\(disk.displayModel), \(HumanUnits.bytes(disk.sizeBytes)), \(disk.transport.label)"
                + (disk.removable ? ", removable" : "")
        case .imageFile:
            return "an image file"
        }
    }
}

/// Why a device was refused.
public struct FlashRefusal: Error, CustomStringConvertible, Equatable {
    public var device: String
    public var reason: String
    /// Whether `--force` would allow it (only "not removable / not USB" does).
    public var overridable: Bool

    public var description: String {
        "\(device): \(reason)" + (overridable ? " (use --force if you are sure)" : "")
    }
}

/// A flash that could not complete: the file or device and what went wrong.
public struct FlashError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// The record of a flash.
public struct FlashReport: Sendable, Codable, Equatable {
    public var image: String
    public var target: String
    public var bytes: UInt64
    public var sha256: String
    /// The sha256 of the first `bytes` bytes read back from the target after writing.
    public var readBackSHA256: String
    public var seconds: Double
    public var verified: Bool { sha256 == readBackSHA256 }
}

/// `emts-iso flash ISO DEVICE`: writes a medium to a USB stick safely and checks what landed there.
public struct StickFlasher {
    public let paths: HostPaths

    public init(paths: HostPaths = HostPaths()) {
        self.paths = paths
    }

    /// Decides whether `device` may receive an image of `imageBytes` bytes.
    ///
    /// A path under the device directory must name a whole disk sysfs knows: not a partition, not read-only,
    /// with no mounted partition, no holder (LVM, RAID), not holding `/`, large enough, and removable or on
    /// USB unless `force`. Any other path is an image file (created when missing). Only the removable/USB
    /// rule yields to `force`.
    /// - Throws: `FlashRefusal` naming the device and the reason.
    public func target(_ device: String, imageBytes: UInt64, force: Bool) throws(FlashRefusal) -> FlashTarget {
        let resolved = URL(fileURLWithPath: device).resolvingSymlinksInPath().path
        guard let name = paths.kernelName(ofDevicePath: resolved) ?? paths.kernelName(ofDevicePath: device) else {
            var info = stat()
            if stat(device, &info) == 0, info.st_mode & S_IFMT == S_IFBLK {
                throw FlashRefusal(device: device, reason: "a block device outside \(paths.dev)", overridable: false)
            }
            if stat(device, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
                throw FlashRefusal(device: device, reason: "not a block device or regular file", overridable: false)
            }
            return FlashTarget(path: device, kind: .imageFile, capacity: UInt64.max)
        }
        let inventory: DiskInventory
        do {
            inventory = try DiskInventory.scan(paths)
        } catch {
            throw FlashRefusal(device: device, reason: "cannot list the machine's disks: \(error)", overridable: false)
        }
        guard let disk = inventory.disk(named: name) else {
            if let parent = inventory.disk(withPartition: name) {
                throw FlashRefusal(device: device, reason: "a partition of \(parent.devicePath); give the whole disk",
                                   overridable: false)
            }
            throw FlashRefusal(device: device, reason: "not a disk this machine has (no \(paths.blockDirectory)/\(name))",
                               overridable: false)
        }
        let mounted = disk.mountPoints + disk.partitions.flatMap(\.mountPoints)
        if mounted.contains("/") {
            throw FlashRefusal(device: device, reason: "it holds the running system's root filesystem", overridable: false)
        }
        if !mounted.isEmpty {
            throw FlashRefusal(device: device, reason: "mounted at \(mounted.joined(separator: ", ")); unmount it first",
                               overridable: false)
        }
        let holders = disk.holders + disk.partitions.flatMap(\.holders)
        if !holders.isEmpty || disk.isSwap || disk.partitions.contains(where: \.isSwap) {
            throw FlashRefusal(device: device, reason: "in use (\(holders.isEmpty ? "swap" : "held by " + holders.joined(separator: ", ")))",
                               overridable: false)
        }
        if disk.readOnly {
            throw FlashRefusal(device: device, reason: "read-only", overridable: false)
        }
        if disk.sizeBytes < imageBytes {
            throw FlashRefusal(device: device, reason: "\(HumanUnits.bytes(disk.sizeBytes)) is smaller than the image "
                               + "(\(HumanUnits.bytes(imageBytes)))", overridable: false)
        }
        if !(disk.removable || disk.transport == .usb), !force {
            throw FlashRefusal(device: device, reason: "not a removable or USB disk (\(disk.transport.label), "
                               + "\(disk.displayModel)): it looks like an internal disk", overridable: true)
        }
        return FlashTarget(path: disk.devicePath, kind: .disk(disk), capacity: disk.sizeBytes)
    }

    /// What `target` holds now, for the confirmation prompt: its partition table and labels.
    public func currentContents(of target: FlashTarget) -> String {
        guard FileManager.default.fileExists(atPath: target.path) else { return "nothing (a new file)" }
        guard let report = try? Blkid.probe(target.path) else { return "unreadable" }
        var parts: [String] = []
        if let table = report.partitionTable {
            parts.append("\(table.type) partition table with \(table.partitions.count) partition(s)")
        }
        if let type = report.type { parts.append("\(type) filesystem" + (report.label.map { " \"\($0)\"" } ?? "")) }
        return parts.isEmpty ? "no partition table or filesystem found" : parts.joined(separator: ", ")
    }

    /// Copies `image` to `target` in 4 MiB writes, flushes, then reads the written range back and compares
    /// its sha256 with the image's.
    /// - Parameter progress: bytes written so far and the total.
    /// - Throws: `FlashError` naming the image or the target; a readback mismatch is reported, not thrown.
    public func flash(_ image: String, to target: FlashTarget,
                      progress: ((UInt64, UInt64) -> Void)? = nil) throws(FlashError) -> FlashReport {
        let started = Date()
        var isImageFile = false
        if case .imageFile = target.kind { isImageFile = true }
        if isImageFile, !FileManager.default.fileExists(atPath: target.path),
           !FileManager.default.createFile(atPath: target.path, contents: nil) {
            throw FlashError(path: target.path, reason: "cannot create it: \(String(cString: strerror(errno)))")
        }
        guard let input = FileHandle(forReadingAtPath: image) else {
            throw FlashError(path: image, reason: "cannot open it: \(String(cString: strerror(errno)))")
        }
        defer { try? input.close() }
        var hasher = SHA256()
        var written: UInt64 = 0
        let device: TargetDevice
        do {
            let total = try input.seekToEnd()
            try input.seek(toOffset: 0)
            device = try TargetDevice(path: target.path, growable: isImageFile)
            progress?(0, total)
            while true {
                let chunk: Data
                do {
                    guard let next = try input.read(upToCount: 4 << 20), !next.isEmpty else { break }
                    chunk = next
                } catch {
                    throw FlashError(path: image, reason: "reading: \(error)")
                }
                hasher.update(data: chunk)
                try device.write([UInt8](chunk), at: written)
                written += UInt64(chunk.count)
                progress?(written, total)
            }
            try device.sync()
            try device.rereadPartitionTable()
        } catch let error as FlashError {
            throw error
        } catch let error as TargetIOError {
            throw FlashError(path: target.path, reason: error.reason)
        } catch {
            throw FlashError(path: target.path, reason: "\(error)")
        }
        device.close()
        if device.isBlockDevice { dropCache(target.path) }
        let readBack: String
        do {
            readBack = try FileDigest.sha256(of: target.path, range: 0 ..< written).sha256
        } catch {
            throw FlashError(path: target.path, reason: "reading back: \(error)")
        }
        return FlashReport(image: image, target: target.path, bytes: written, sha256: hex(hasher.finalize()),
                           readBackSHA256: readBack, seconds: Date().timeIntervalSince(started))
    }

    /// Makes the readback come from the device, not from the page cache the write just filled.
    private func dropCache(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fdatasync(descriptor)
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        Glibc.close(descriptor)
    }

    private func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
