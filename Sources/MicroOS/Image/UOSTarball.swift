import ArchiveKit
import Foundation

/// The kernel and initramfs a µOS image tarball carries in `boot/`, copied out for the build.
public struct UOSBootFiles: Sendable {
    /// The tarball's `boot/vmlinuz-*`, copied to a temporary file.
    public var kernel: String
    /// The tarball's `boot/initramfs-*.img`, copied to a temporary file.
    public var initramfs: String
    /// Their names in the tarball.
    public var kernelEntry: String
    public var initramfsEntry: String

    /// Deletes the temporary copies.
    public func remove() {
        unlink(kernel)
        unlink(initramfs)
    }
}

/// The µOS image tarball: the whole OS with its kernel and dracut initramfs in `boot/`, the input of
/// `generate-tink-initramfs.sh`. emts-iso nests it as `/rootfs.tar.gz` in that initramfs, as the script does,
/// but in one pass and without temporary copies of the OS.
public enum UOSTarball {
    /// Entries the nested archive leaves out: `tmp/` and the kernel files of `boot/`.
    public static func isDropped(_ normalizedPath: String) -> Bool {
        if normalizedPath == "tmp" || normalizedPath.hasPrefix("tmp/") { return true }
        guard normalizedPath.hasPrefix("boot/") else { return false }
        let name = normalizedPath.dropFirst("boot/".count)
        guard !name.contains("/") else { return false }
        return ["vmlinuz-", "initramfs-", "System.map-", "config-"].contains { name.hasPrefix($0) }
    }

    /// Copies `boot/vmlinuz-*` and `boot/initramfs-*.img` out of the tarball into `directory` (as hidden
    /// temporary files the caller removes with `UOSBootFiles.remove()`).
    /// - Throws: `ArchiveError` for a damaged tarball; `MicroOSError.tarball` when it lacks either file or holds
    ///   several kernels.
    public static func extractBoot(from tarball: String, into directory: String) throws -> UOSBootFiles {
        let reader = try ArchiveReader(path: tarball, mode: .archive([.tarPax]))
        var kernels: [String] = []
        var initramfses: [String] = []
        var copies: [String: String] = [:]
        var cleanup = true
        defer { if cleanup { copies.values.forEach { unlink($0) } } }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while let entry = try reader.next() {
            let path = Initramfs.normalizedName(entry.path)
            let isKernel = path.hasPrefix("boot/vmlinuz-") && !path.dropFirst(5).contains("/")
            let isInitramfs = path.hasPrefix("boot/initramfs-") && path.hasSuffix(".img") && !path.dropFirst(5).contains("/")
            guard entry.kind == .regular, entry.hardlinkTarget == nil, isKernel || isInitramfs else {
                try reader.skipData()
                continue
            }
            if isKernel { kernels.append(path) } else { initramfses.append(path) }
            let copy = "\(directory)/.\(isKernel ? "uos-vmlinuz" : "uos-initramfs")-\(getpid())-\(UInt32.random(in: 0 ... .max))"
            let output = try FileSink(creating: copy)
            copies[path] = copy
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                try output.write(UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
            }
            try output.close()
        }
        guard kernels.count == 1, initramfses.count == 1 else {
            throw MicroOSError.tarball(path: tarball, message: """
                needs exactly one boot/vmlinuz-* and one boot/initramfs-*.img; found kernels \(kernels) \
                and initramfs images \(initramfses)
                """)
        }
        cleanup = false
        return UOSBootFiles(kernel: copies[kernels[0]]!, initramfs: copies[initramfses[0]]!,
                            kernelEntry: kernels[0], initramfsEntry: initramfses[0])
    }
}
