import Foundation
import ISOKit
import StreamKit

/// The kernel arguments as a fixed-size GRUB script, `kargs.cfg`, so they can be changed in place on a
/// written medium (as coreos-installer's `iso kargs modify` does): the boot menu `source`s it.
///
/// Layout, exactly `size` bytes:
/// ```
/// # EMT-S kernel arguments: edit in place, keep this file exactly 1024 bytes (pad with '#').
/// set emts_kargs="root=tmpfs ..."
/// export emts_kargs
/// ########...#
/// ```
/// The ISO writer records where the file's bytes sit on the medium in `KargsMap`.
public struct KargsArea: Sendable, Equatable {
    /// Where the file lives on the medium.
    public static let path = "/boot/grub/kargs.cfg"
    public static let defaultSize = 1024
    /// The GRUB variable the menu passes to `linux`.
    public static let variable = "emts_kargs"

    /// The file's fixed length in bytes.
    public var size: Int

    public init(size: Int = KargsArea.defaultSize) {
        self.size = size
    }

    private var header: String {
        "# EMT-S kernel arguments: edit in place, keep this file exactly \(size) bytes (pad with '#').\n"
    }
    private static let assignmentStart = "set \(variable)=\""
    private static let assignmentEnd = "\"\nexport \(variable)\n"

    /// The longest command line that fits (the padding line needs at least "#\n").
    public var capacity: Int {
        max(0, size - header.utf8.count - Self.assignmentStart.utf8.count - Self.assignmentEnd.utf8.count - 2)
    }

    /// The file's bytes for `arguments`, exactly `size` long.
    /// - Throws: `kernelArgumentsTooLong` when the command line exceeds `capacity`.
    public func encode(_ arguments: KernelArguments) throws(HybridISOError) -> [UInt8] {
        try encode(commandLine: arguments.commandLine)
    }

    /// The file's bytes for an already-built command line, validated with `KernelArguments.validate`.
    public func encode(commandLine: String) throws(HybridISOError) -> [UInt8] {
        try KernelArguments.validate(commandLine: commandLine)
        let line = Array(commandLine.utf8)
        guard line.count <= capacity else { throw .kernelArgumentsTooLong(length: line.count, capacity: capacity) }
        var bytes = Array((header + Self.assignmentStart).utf8) + line + Array(Self.assignmentEnd.utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "#"), count: size - bytes.count - 1) + [UInt8(ascii: "\n")]
        return bytes
    }

    /// The command line in a kargs file's bytes.
    /// - Throws: `invalidPlan` when the bytes are not a kargs file of this size.
    public func decode(_ bytes: [UInt8]) throws(HybridISOError) -> String {
        guard bytes.count == size else {
            throw .invalidPlan("kargs file is \(bytes.count) bytes, expected \(size)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let start = text.range(of: "\n" + Self.assignmentStart),
              let end = text.range(of: Self.assignmentEnd, range: start.upperBound..<text.endIndex)
        else { throw .invalidPlan("kargs file has no \(Self.assignmentStart)...\" line") }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// The map recorded on the medium; the ISO writer fills in each file's offset once it has placed it.
    public func map(for arguments: KernelArguments, signedImage: String? = nil) -> KargsMap {
        KargsMap(defaultCommandLine: arguments.commandLine, size: size, files: [KargsMap.File(path: Self.path)],
                 signedImage: signedImage)
    }
}

/// JSON description of the kargs areas on a medium: their fixed size, the command line built in, and where
/// each copy is (`offset` in bytes from the start of the image; absent until the ISO writer places it).
public struct KargsMap: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var offset: UInt64?

        public init(path: String, offset: UInt64? = nil) {
            self.path = path
            self.offset = offset
        }
    }

    /// Where the map itself lives on the medium, in a fixed-size area of its own.
    public static let path = "/boot/grub/kargs.json"
    public static let areaSize = 1024

    public var defaultCommandLine: String
    public var size: Int
    public var files: [File]
    /// Under `--secure-boot sign` the UEFI path boots a signed unified kernel image whose command line is
    /// part of the signature: its path in the ESP, to say that only a rebuild changes that line.
    public var signedImage: String?

    enum CodingKeys: String, CodingKey {
        case defaultCommandLine = "default"
        case size, files
        case signedImage = "signed_image"
    }

    public init(defaultCommandLine: String, size: Int, files: [File], signedImage: String? = nil) {
        self.defaultCommandLine = defaultCommandLine
        self.size = size
        self.files = files
        self.signedImage = signedImage
    }

    /// The map as exactly `areaSize` bytes: JSON, padded with spaces, ending in a newline.
    /// - Throws: `invalidPlan` when the JSON does not fit.
    public func areaBytes() throws(HybridISOError) -> [UInt8] {
        var bytes = [UInt8](try jsonData())
        guard bytes.count < Self.areaSize else {
            throw .invalidPlan("the kargs map needs \(bytes.count) bytes, its area holds \(Self.areaSize - 1)")
        }
        bytes += [UInt8](repeating: UInt8(ascii: " "), count: Self.areaSize - 1 - bytes.count) + [UInt8(ascii: "\n")]
        return bytes
    }

    /// Finds where each kargs file and the map itself landed in the written image at `imagePath`, records
    /// the offsets and writes the completed map over its own placeholder area (same size, so nothing else
    /// moves). Checks that each recorded offset holds a kargs file of `size` bytes.
    /// - Returns: the map with offsets.
    public func place(in imagePath: String) throws -> KargsMap {
        let image = try ISOImage(reading: imagePath)
        var placed = self
        for index in placed.files.indices {
            let extents = try image.extents(of: placed.files[index].path)
            guard extents.count == 1, extents[0].size == UInt64(size) else {
                throw HybridISOError.invalidPlan("\(placed.files[index].path) is not one \(size)-byte extent in \(imagePath)")
            }
            placed.files[index].offset = extents[0].offset
        }
        let own = try image.extents(of: Self.path)
        guard own.count == 1, own[0].size == UInt64(Self.areaSize) else {
            throw HybridISOError.invalidPlan("\(Self.path) is not one \(Self.areaSize)-byte extent in \(imagePath)")
        }
        let bytes = try placed.areaBytes()
        let file = try FileSink(updating: imagePath)
        try file.patch(bytes, at: Int64(own[0].offset))
        try file.close()
        return placed
    }

    /// Stable JSON (sorted keys) for the medium and the manifest.
    public func jsonData() throws(HybridISOError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do { return try encoder.encode(self) } catch {
            throw .invalidPlan("encoding the kargs map: \(error)")
        }
    }
}
