import Foundation

/// An existing FAT filesystem inside a file, at a byte offset: a partition of a written ISO (the ESP, the config
/// partition) read and edited in place through mtools, without mounting and without root.
public struct FATVolume: Sendable {
    /// The file holding the filesystem (an ISO image, a disk image, a device).
    public var path: String
    /// Where the filesystem starts in it.
    public var offset: UInt64

    public init(path: String, offset: UInt64 = 0) {
        self.path = path
        self.offset = offset
    }

    private var image: String { offset == 0 ? path : "\(path)@@\(offset)" }

    /// Every file's path (no leading slash), sorted.
    /// - Throws: `HybridISOError.toolFailed` when mtools cannot read a FAT filesystem there.
    public func files() throws(HybridISOError) -> [String] {
        let output: ExternalTool.Output
        do {
            output = try ExternalTool.mdir.run(["-/", "-b", "-i", image, "::/"], step: "listing the FAT filesystem in \(path)",
                                               environment: FATImage.mtoolsEnvironment)
        } catch let .toolFailed(_, _, _, message) where message.hasSuffix("File \"::/\" not found") {
            return []  // mdir's way of saying the root directory is empty
        }
        // `mdir -b` prints one "::/dir/name" per file and per directory (directories end in '/').
        return String(decoding: output.standardOutput, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { String($0.drop(while: { $0 == ":" }).drop(while: { $0 == "/" })) }
            .filter { !$0.isEmpty && !$0.hasSuffix("/") }
            .sorted()
    }

    /// The contents of the file at `file` ("installer.yaml", "EFI/BOOT/BOOTX64.EFI").
    /// - Throws: `HybridISOError.toolFailed` naming the file when it is missing or unreadable.
    public func read(_ file: String) throws(HybridISOError) -> [UInt8] {
        try validate(file)
        let output = try ExternalTool.mtype.run(["-i", image, "::/" + file], step: "reading /\(file) from \(path)",
                                                environment: FATImage.mtoolsEnvironment)
        return [UInt8](output.standardOutput)
    }

    /// Whether `file` exists.
    public func contains(_ file: String) throws(HybridISOError) -> Bool {
        try files().contains(file)
    }

    /// Writes `bytes` as `file`, replacing it if present, then reads it back.
    /// - Throws: `HybridISOError.toolFailed` (no space, not FAT) or `.verificationFailed` when the read-back differs.
    public func write(_ bytes: [UInt8], to file: String, modificationTime: Int64? = nil) throws(HybridISOError) {
        try validate(file)
        let scratch = try ScratchDirectory(beside: FileManager.default.temporaryDirectory.path + "/emts-fat")
        let staged = scratch.file(URL(fileURLWithPath: file).lastPathComponent)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: staged))
            if let modificationTime {
                try FileManager.default.setAttributes(
                    [.modificationDate: Date(timeIntervalSince1970: TimeInterval(max(modificationTime, 315_532_800)))],
                    ofItemAtPath: staged)
            }
        } catch {
            throw .io(path: staged, step: "staging /\(file) for \(path)", reason: "\(error)")
        }
        let output = try ExternalTool.mcopy.run(["-i", image, "-o", "-m", "-Q", staged, "::/" + file],
                                                step: "writing /\(file) into \(path)",
                                                environment: FATImage.mtoolsEnvironment)
        if output.standardError.localizedCaseInsensitiveContains("disk full") {
            throw .toolFailed(tool: "mcopy", step: "writing /\(file) into \(path)", status: 0, output: output.standardError)
        }
        guard try read(file) == bytes else {
            throw .verificationFailed(image: path, path: "/" + file, reason: "read back differs from what was written")
        }
    }

    private func validate(_ file: String) throws(HybridISOError) {
        guard !file.isEmpty, !file.hasPrefix("/"), !file.split(separator: "/").contains(".."),
              file.allSatisfy({ $0.isASCII && !$0.isNewline && $0 != "\\" && $0 != ":" }) else {
            throw .invalidPlan("FAT path \"\(file)\" must be relative, ASCII, without '..', '\\' or ':'")
        }
    }
}
