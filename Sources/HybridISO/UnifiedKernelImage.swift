import Foundation

/// A unified kernel image: systemd's EFI stub with the kernel, the initramfs, the kernel command line and an
/// os-release text added as PE sections, so one signature covers all of them. Under Secure Boot the stub
/// ignores a command line passed by the boot loader when the image carries its own, so the signed line
/// cannot be changed at boot.
///
/// Assembled with `objcopy` the way systemd documents for images built without `ukify` (not in Debian 12):
/// each section at a page-aligned address after the stub's image and after the section before it.
public struct UnifiedKernelImage: Sendable {
    /// systemd-boot-efi's stub.
    public static let debianStub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

    public var stub: String = UnifiedKernelImage.debianStub
    public var kernel: String
    public var initramfs: String
    public var commandLine: String
    public var osRelease: String
    /// The PE header's TimeDateStamp (objcopy writes the current time there), seconds since 1970.
    public var timestamp: Int64

    public init(kernel: String, initramfs: String, commandLine: String, osRelease: String, timestamp: Int64) {
        self.kernel = kernel
        self.initramfs = initramfs
        self.commandLine = commandLine
        self.osRelease = osRelease
        self.timestamp = timestamp
    }

    /// Writes the (unsigned) image to `output`.
    /// - Throws: `HybridISOError` naming the stub or an input that cannot be read, or objcopy's failure.
    public func build(to output: String) throws(HybridISOError) {
        guard FileManager.default.isReadableFile(atPath: stub) else {
            throw .io(path: stub, step: "reading systemd's EFI stub", reason: "not found: install systemd-boot-efi")
        }
        let layout = try PEImageLayout(path: stub)
        let scratch = try ScratchDirectory(beside: output)
        let osrel = scratch.file("os-release")
        let cmdline = scratch.file("cmdline")
        do {
            try Data(osRelease.utf8).write(to: URL(fileURLWithPath: osrel))
            try Data(commandLine.utf8).write(to: URL(fileURLWithPath: cmdline))
        } catch {
            throw .io(path: scratch.path, step: "staging the unified kernel image's sections", reason: "\(error)")
        }
        var arguments: [String] = []
        var address = layout.end
        for (name, path) in [(".osrel", osrel), (".cmdline", cmdline), (".linux", kernel), (".initrd", initramfs)] {
            let size = try Self.size(of: path)
            arguments += ["--add-section", "\(name)=\(path)",
                          "--change-section-vma", "\(name)=0x\(String(address, radix: 16))"]
            address = PEImageLayout.align(address + size, to: layout.alignment)
        }
        let image = scratch.file("uki.efi")
        try ExternalTool.objcopy.run(arguments + [stub, image], step: "assembling the unified kernel image \(output)")
        try PEImageLayout.setTimestamp(UInt32(clamping: timestamp), of: image)
        try scratch.commit(image, to: output)
    }

    private static func size(of path: String) throws(HybridISOError) -> UInt64 {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber else {
            throw .io(path: path, step: "adding it to the unified kernel image", reason: "cannot read it")
        }
        return size.uint64Value
    }
}

/// Where new sections may go in a PE32+ image: after the end of its mapped image, on page boundaries (or its
/// section alignment, if larger).
struct PEImageLayout: Equatable {
    var end: UInt64
    var alignment: UInt64

    init(end: UInt64, alignment: UInt64) {
        self.end = end
        self.alignment = alignment
    }

    /// Reads the headers of the PE32+ file at `path`.
    init(path: String) throws(HybridISOError) {
        guard let handle = FileHandle(forReadingAtPath: path),
              let head = try? handle.read(upToCount: 4096) else {
            throw .io(path: path, step: "reading PE headers", reason: "cannot read it")
        }
        try? handle.close()
        try self.init(headers: [UInt8](head), path: path)
    }

    init(headers bytes: [UInt8], path: String) throws(HybridISOError) {
        func fail(_ reason: String) -> HybridISOError { .io(path: path, step: "reading PE headers", reason: reason) }
        func le(_ offset: Int, _ count: Int) -> UInt64? {
            guard offset >= 0, offset + count <= bytes.count else { return nil }
            return (0 ..< count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
        }
        guard bytes.starts(with: [0x4D, 0x5A]), let peOffset = le(0x3C, 4).map(Int.init) else {
            throw fail("not a PE image (no MZ header)")
        }
        guard le(peOffset, 4) == 0x0000_4550 else { throw fail("not a PE image (no PE signature)") }
        let optional = peOffset + 24
        guard le(optional, 2) == 0x20B else { throw fail("not a PE32+ (64-bit) image") }
        guard let alignment = le(optional + 32, 4), let sizeOfImage = le(optional + 56, 4),
              alignment > 0, alignment & (alignment - 1) == 0 else {
            throw fail("truncated or invalid optional header")
        }
        // Sections go on page boundaries even when the stub's own alignment is smaller (systemd 252's is 512),
        // as ukify does: firmware that maps sections with page-granular memory protections needs that.
        let page = max(alignment, 4096)
        self.init(end: Self.align(sizeOfImage, to: page), alignment: page)
    }

    /// Writes `time` into the COFF header's TimeDateStamp of the PE file at `path`.
    static func setTimestamp(_ time: UInt32, of path: String) throws(HybridISOError) {
        guard let handle = FileHandle(forUpdatingAtPath: path),
              let head = try? handle.read(upToCount: 0x40), head.count == 0x40 else {
            throw .io(path: path, step: "setting the PE timestamp", reason: "cannot open or read it")
        }
        defer { try? handle.close() }
        let peOffset = head[0x3C ..< 0x40].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        do {
            try handle.seek(toOffset: peOffset + 8)
            try handle.write(contentsOf: Data((0 ..< 4).map { UInt8(truncatingIfNeeded: time >> (8 * $0)) }))
        } catch {
            throw .io(path: path, step: "setting the PE timestamp", reason: "\(error)")
        }
    }

    static func align(_ value: UInt64, to alignment: UInt64) -> UInt64 {
        (value + alignment - 1) / alignment * alignment
    }
}
