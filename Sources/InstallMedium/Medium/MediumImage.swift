import DiskKit
import Foundation
import HybridISO
import ISOKit
import MicroOS
import StreamKit

/// A written install medium (an ISO file, or a stick it was written to), read back: its ISO tree, partition
/// tables, kernel arguments, µOS and payload, without mounting anything.
public final class MediumImage {
    public let path: String
    public let bytes: UInt64
    let iso: ISOImage
    private var tables: (mbr: [PartitionRecord], gpt: [PartitionRecord])?

    /// Opens the ISO image at `path`.
    /// - Throws: `MediumError.notAnInstallMedium` when it is not an ISO 9660 image emts-iso wrote.
    public init(path: String) throws {
        self.path = path
        do {
            iso = try ISOImage(reading: path)
        } catch {
            throw MediumError.notAnInstallMedium(path: path, reason: "not a readable ISO 9660 image (\(error))")
        }
        bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.uint64Value ?? 0
        guard try iso.entry(at: KargsMap.path) != nil, try iso.entry(at: "/boot/initramfs.img") != nil else {
            throw MediumError.notAnInstallMedium(path: path, reason: "no \(KargsMap.path) or /boot/initramfs.img: "
                                                 + "not written by emts-iso")
        }
    }

    public var volumeID: String { iso.volumeID }

    /// The build id, from the medium's tag file `/.disk/emts-iso-<id>`.
    public var buildID: String? {
        (try? iso.entries())?.lazy.map(\.path).first { $0.hasPrefix("/.disk/emts-iso-") }
            .map { String($0.dropFirst("/.disk/emts-iso-".count)) }
    }

    /// The El Torito entries.
    public func elTorito() throws -> [ElToritoBootRecord] { try iso.elToritoEntries() }

    /// The MBR's entries and the GPT's partitions (read once: the FAT volumes and every check use them).
    public func partitions() throws -> (mbr: [PartitionRecord], gpt: [PartitionRecord]) {
        if let tables { return tables }
        let mbr = try MBRTable.read(path).map { entry in
            PartitionRecord(table: "dos", number: entry.number, startBytes: entry.startBytes, sizeBytes: entry.sizeBytes,
                            type: String(format: "%02x", entry.mbrType), name: nil, active: entry.flags & 0x80 != 0)
        }
        let gpt = try HybridISOBuild.partitions(of: path).filter { $0.table == "gpt" }
        tables = (mbr, gpt)
        return (mbr, gpt)
    }

    /// The contents of the file at `path` in the ISO tree (such as `/boot/vmlinuz`).
    public func contents(of path: String) throws -> [UInt8] { try iso.contents(of: path) }

    /// The `--secure-boot` mode the medium was built with, told from its ESP and kargs map.
    public func secureBootMode() throws -> String {
        MediumReport.secureBootMode(espFiles: try espFiles())
    }

    /// The FAT filesystem of GPT partition `number` (2: the ESP, 3: the config partition).
    public func fatVolume(partition number: Int) throws -> FATVolume {
        guard let partition = try partitions().gpt.first(where: { $0.number == number }) else {
            throw MediumError.notAnInstallMedium(path: path, reason: "no GPT partition \(number)")
        }
        return FATVolume(path: path, offset: partition.startBytes)
    }

    /// The kargs map on the medium (`/boot/grub/kargs.json`), with its own offset.
    public func kargsMap() throws -> (map: KargsMap, offset: UInt64) {
        let bytes = try iso.contents(of: KargsMap.path)
        let map: KargsMap
        do {
            map = try JSONDecoder().decode(KargsMap.self, from: Data(bytes))
        } catch {
            throw MediumError.damaged(path: path, what: KargsMap.path, reason: "not a kargs map: \(error)")
        }
        guard let extent = try iso.extents(of: KargsMap.path).first, !map.files.isEmpty,
              map.files.allSatisfy({ $0.offset != nil }) else {
            throw MediumError.damaged(path: path, what: KargsMap.path, reason: "its files carry no offsets")
        }
        return (map, extent.offset)
    }

    /// Each kargs area's command line, read from the raw bytes at the map's offsets (what the boot loader
    /// will read, whatever an in-place edit did to them).
    public func kernelCommandLines() throws -> [(path: String, commandLine: String)] {
        let (map, _) = try kargsMap()
        let area = KargsArea(size: map.size)
        return try map.files.map { file in
            let raw = try readBytes(at: file.offset ?? 0, count: map.size)
            do {
                return (file.path, try area.decode(raw))
            } catch {
                throw MediumError.damaged(path: path, what: "\(file.path) at byte \(file.offset ?? 0)", reason: "\(error)")
            }
        }
    }

    /// `count` bytes of the medium at `offset`.
    func readBytes(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileStreamError(path: path, operation: "opening", errno: ENOENT)
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else {
            throw MediumError.damaged(path: path, what: "bytes \(offset)+\(count)", reason: "the image ends before them")
        }
        return [UInt8](data)
    }

    /// Scans the µOS initramfs in place (it is one extent of the image): units, installer, records.
    public func microOS() throws -> MicroOSScan {
        guard let extent = try iso.extents(of: "/boot/initramfs.img").first else {
            throw MediumError.damaged(path: path, what: "/boot/initramfs.img", reason: "it has no data")
        }
        let start = Int64(extent.offset)
        return try MicroOSRewriter.scan(initramfs: path, range: start ..< start + Int64(extent.size),
                                        name: "\(path):/boot/initramfs.img")
    }

    /// The OS images in `/images/`, with the sha256 their `.sha256` files state.
    public func payloads() throws -> [PayloadRecord] {
        try iso.entries().filter { entry in
            entry.path.hasPrefix("/images/") && !entry.path.hasSuffix(".sha256") && entry.kind == .file
        }.map { entry in
            let stated = (try? iso.contents(of: entry.path + ".sha256")).map { String(decoding: $0, as: UTF8.self) }
                .flatMap { $0.split(separator: " ").first.map(String.init) }
            let extent = try iso.extents(of: entry.path)
            return PayloadRecord(path: entry.path, bytes: entry.size, statedSHA256: stated,
                                 offset: extent.count == 1 ? extent[0].offset : nil)
        }
    }

    /// Digests the payload's bytes where they sit in the image.
    public func digest(_ payload: PayloadRecord) throws -> String {
        guard let offset = payload.offset else {
            throw MediumError.damaged(path: path, what: payload.path, reason: "stored in several extents")
        }
        return try FileDigest.sha256(of: path, range: offset ..< offset + payload.bytes).sha256
    }

    /// The manifest written next to the ISO, when there is one.
    public func manifest() throws -> InstallMediumManifest? {
        let manifestPath = path + ".manifest.json"
        guard let data = FileManager.default.contents(atPath: manifestPath) else { return nil }
        do {
            return try JSONDecoder().decode(InstallMediumManifest.self, from: data)
        } catch {
            throw MediumError.damaged(path: manifestPath, what: "the manifest", reason: "\(error)")
        }
    }

    /// The files in the ESP.
    public func espFiles() throws -> [String] { try fatVolume(partition: 2).files() }
}

/// An OS image on the medium.
public struct PayloadRecord: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: UInt64
    /// What `/images/NAME.sha256` says.
    public var statedSHA256: String?
    /// Where its bytes start in the image (one extent).
    public var offset: UInt64?
}

/// Why a medium could not be read or edited.
public enum MediumError: Error, CustomStringConvertible, Equatable {
    case notAnInstallMedium(path: String, reason: String)
    case damaged(path: String, what: String, reason: String)
    case refused(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notAnInstallMedium(path, reason): "\(path): not an EMT-S install medium: \(reason)"
        case let .damaged(path, what, reason): "\(path): \(what): \(reason)"
        case let .refused(path, reason): "\(path): \(reason)"
        }
    }
}
