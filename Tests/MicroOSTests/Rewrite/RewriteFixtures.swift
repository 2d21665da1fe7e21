import ArchiveKit
import Foundation
import MicroOS
import Testing

/// Synthetic µOS initramfs images for the rewriter tests: an optional plain early cpio, then one outer cpio
/// segment (plain or compressed) that carries a few files and the nested `rootfs.tar.gz`, all written with
/// ArchiveKit's `ArchiveWriter` in memory.
struct MicroOSImage {
    typealias File = InitramfsFixture.File

    /// Entries of the nested root filesystem archive, in archive order.
    var rootfs: [File]
    var nestedFilter: ArchiveFilter = .gzip
    /// The nested archive's name in the initramfs (nil leaves it out).
    var nestedName: String? = "rootfs.tar.gz"
    /// Replaces the nested archive's bytes (for truncated or corrupt streams).
    var nestedBytes: [UInt8]?
    /// Outer entries before and after the nested archive.
    var outerBefore: [File] = MicroOSImage.outerBefore
    var outerAfter: [File] = MicroOSImage.outerAfter
    var outerFilter: ArchiveFilter = .gzip
    /// A plain early cpio (microcode) first, zero-padded to 512 bytes.
    var early: [File]?

    static let outerBefore: [File] = [
        InitramfsFixture.directory("bin"),
        InitramfsFixture.file("bin/busybox", String(repeating: "busybox ", count: 500), permissions: 0o755),
        InitramfsFixture.file("init", "#!/bin/sh\nexec /bin/busybox sh\n", permissions: 0o755),
        (ArchiveEntry(path: "dev/console", kind: .characterDevice, permissions: 0o600, deviceMajor: 5, deviceMinor: 1), []),
    ]
    static let outerAfter: [File] = [
        InitramfsFixture.directory("etc"),
        InitramfsFixture.file("etc/initrd-release", "NAME=uOS\n"),
    ]
    static let earlyFiles: [File] = [
        InitramfsFixture.directory("kernel"),
        InitramfsFixture.directory("kernel/x86"),
        InitramfsFixture.directory("kernel/x86/microcode"),
        InitramfsFixture.file("kernel/x86/microcode/GenuineIntel.bin", String(repeating: "ucode", count: 40)),
    ]

    /// The nested archive's header in the outer cpio (kept by the rewrite).
    static let nestedHeader = ArchiveEntry.file("rootfs.tar.gz", size: 0, permissions: 0o640, uid: 0, gid: 0,
                                                mtime: ArchiveTime(seconds: 1_700_000_000))

    func nestedArchive() throws -> [UInt8] {
        try nestedBytes ?? InitramfsFixture.tar(rootfs, filter: nestedFilter)
    }

    func bytes() throws -> [UInt8] {
        var main = outerBefore
        if let nestedName {
            var header = Self.nestedHeader
            header.path = nestedName
            main.append((header, try nestedArchive()))
        }
        main += outerAfter
        var result: [UInt8] = []
        if let early {
            let cpio = try InitramfsFixture.cpio(early)
            result = cpio + InitramfsFixture.zeros(512 - cpio.count % 512)
        }
        return result + (try InitramfsFixture.cpio(main, filter: outerFilter))
    }

    @discardableResult
    func write(_ name: String, in scratch: InitramfsScratch) throws -> String {
        try scratch.write(name, try bytes())
    }
}

/// The synthetic µOS root: usrmerged, the four agent units enabled for multi-user.target (plus sshd, which stays),
/// and one of each thing a rewrite must carry unchanged: SELinux xattrs, a hard link pair, device nodes, a fifo,
/// a setuid file, a long name, an owner other than root, sub-second mtimes, and a file large enough that the
/// compressed stream spans many blocks.
enum MicroOSTree {
    typealias File = InitramfsFixture.File

    static let agents = EditRequest.agentUnits
    static let wantsDirectory = "etc/systemd/system/multi-user.target.wants"
    static let vendorUnits = "usr/lib/systemd/system"
    static let longName = "usr/share/doc/" + String(repeating: "very-long-directory-name/", count: 6) + "README.long-name"

    static func unit(_ description: String) -> [UInt8] {
        Array("[Unit]\nDescription=\(description)\n\n[Service]\nExecStart=/usr/bin/\(description)\n\n[Install]\nWantedBy=multi-user.target\n".utf8)
    }

    static func selinux(_ type: String) -> ExtendedAttribute {
        ExtendedAttribute(name: "security.selinux", value: Array("system_u:object_r:\(type):s0".utf8) + [0])
    }

    /// The tree, each path spelled with `prefix` (`"./"` as GNU tar writes, `""` as libarchive writes).
    /// `rootEntry` puts the root directory itself first (`./`), as `tar -C root -cf x .` does.
    static func files(prefix: String = "./", rootEntry: Bool = true) -> [File] {
        func p(_ path: String) -> String { prefix + path }
        func dir(_ path: String, mode: UInt32 = 0o755) -> File { (.directory(p(path), permissions: mode, mtime: time), []) }
        func link(_ path: String, _ target: String) -> File { (.symlink(p(path), target: target, mtime: time), []) }
        func file(_ path: String, _ data: [UInt8], mode: UInt32 = 0o644, uid: Int64 = 0, gid: Int64 = 0,
                  xattrs: [ExtendedAttribute] = []) -> File {
            var entry = ArchiveEntry.file(p(path), size: Int64(data.count), permissions: mode, uid: uid, gid: gid, mtime: time)
            entry.xattrs = xattrs
            return (entry, data)
        }
        var bash = file("usr/bin/bash", InitramfsFixture.payload(40_000, seed: 3), mode: 0o755,
                        xattrs: [selinux("shell_exec_t")])
        bash.entry.linkCount = 2
        let sh = ArchiveEntry(path: p("usr/bin/sh"), kind: .regular, permissions: 0o755, mtime: time,
                              hardlinkTarget: p("usr/bin/bash"), linkCount: 2)
        var home = (entry: ArchiveEntry.directory(p("home/user"), permissions: 0o700, uid: 1000, gid: 1000,
                                                  mtime: ArchiveTime(seconds: 1_650_000_000, nanoseconds: 123_456_789)),
                    data: [UInt8]())
        home.entry.userName = "user"
        home.entry.groupName = "user"

        var result: [File] = rootEntry ? [(.directory(prefix.isEmpty ? "." : "./", mtime: time), [])] : []
        result += [
            link("bin", "usr/bin"),
            link("sbin", "usr/sbin"),
            link("lib", "usr/lib"),
            link("lib64", "usr/lib64"),
            dir("dev"),
            (ArchiveEntry(path: p("dev/null"), kind: .characterDevice, permissions: 0o666, mtime: time,
                          deviceMajor: 1, deviceMinor: 3), []),
            (ArchiveEntry(path: p("dev/sda"), kind: .blockDevice, permissions: 0o660, gid: 6, mtime: time,
                          deviceMajor: 8, deviceMinor: 0), []),
            dir("etc"),
            file("etc/hostname", Array("uos\n".utf8), xattrs: [selinux("hostname_etc_t")]),
            file("etc/shadow", Array("root:*:19000:0:99999:7:::\n".utf8), mode: 0o000),
            dir("etc/systemd"),
            dir("etc/systemd/system"),
            dir(wantsDirectory),
        ]
        for unit in agents + ["sshd.service"] {
            result.append(link("\(wantsDirectory)/\(unit)", "/\(vendorUnits)/\(unit)"))
        }
        result += [
            dir("home"),
            home,
            dir("tmp", mode: 0o1777),
            dir("usr"),
            dir("usr/bin"),
            bash,
            (sh, []),
            file("usr/bin/su", Array("su".utf8), mode: 0o4755),
            dir("usr/sbin"),
            dir("usr/lib"),
            dir("usr/lib64"),
            dir("usr/lib/systemd"),
            dir(vendorUnits),
        ]
        for unit in agents + ["sshd.service"] {
            result.append(file("\(vendorUnits)/\(unit)", Self.unit(unit)))
        }
        result += [
            file("usr/lib/firmware.bin", InitramfsFixture.payload(300_000, seed: 7)),
            dir("usr/share"),
            file(longName, Array("long name\n".utf8)),
            dir("var"),
            (ArchiveEntry(path: p("var/initctl"), kind: .fifo, permissions: 0o600, mtime: time), []),
        ]
        return result
    }

    static let time = ArchiveTime(seconds: 1_700_000_000)

    /// The wants links the standard plan removes.
    static var wantsLinks: Set<String> { Set(agents.map { "\(wantsDirectory)/\($0)" }) }

    /// The masks the standard plan adds, as a listing shows them (decoded: `ListedEntry` has no public init).
    static var masks: [ListedEntry] {
        agents.sorted { RootPath.precedes($0, $1) }.map { unit in
            let json = """
                {"path": "etc/systemd/system/\(unit)", "kind": "symlink", "permissions": 511, "uid": 0, "gid": 0,
                 "mtime": 0, "symlinkTarget": "/dev/null", "xattrs": [], "deviceMajor": 0, "deviceMinor": 0}
                """
            return try! JSONDecoder().decode(ListedEntry.self, from: Data(json.utf8))
        }
    }
}

/// Helpers shared by the rewrite tests.
enum RewriteSupport {
    /// An empty output directory in the scratch directory.
    static func outputDirectory(_ scratch: InitramfsScratch, _ name: String = "out") throws -> String {
        let path = scratch.path(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Every name in `directory`, hidden ones (`.initramfs.img.partial-…`) included.
    static func contents(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// The nested archive's raw entries (paths as spelled, hard link targets) and its compression.
    static func rawNested(_ initramfs: String, name: String = Initramfs.rootfsName) throws
        -> (entries: [ArchiveEntry], compression: ArchiveFilter, magic: ArchiveFilter?)
    {
        let reader = try InitramfsReader(path: initramfs)
        var entries: [ArchiveEntry] = []
        var compression = ArchiveFilter.none
        var magic: ArchiveFilter?
        while let item = try reader.next() {
            guard Initramfs.normalizedName(item.entry.path) == Initramfs.normalizedName(name) else { continue }
            let bytes = try reader.readAll(limit: 64 << 20)
            magic = ArchiveFilter.detect(magic: bytes.prefix(6))
            let tar = try ArchiveReader(bytes: bytes, name: name, mode: .archive([.tarPax]))
            while let entry = try tar.next() {
                entries.append(entry)
                try tar.skipData()
            }
            compression = tar.filters.first ?? .none
        }
        return (entries, compression, magic)
    }

    /// The outer entry named `name`, as the reader sees it.
    static func outerEntry(_ initramfs: String, name: String) throws -> InitramfsItem? {
        let reader = try InitramfsReader(path: initramfs)
        var found: InitramfsItem?
        while let item = try reader.next() {
            if Initramfs.normalizedName(item.entry.path) == name { found = item }
        }
        return found
    }

    static func inputs(kernel: String, initramfs: String, request: EditRequest = .standard,
                       options: RewriteOptions = RewriteOptions()) -> MicroOSInputs {
        MicroOSInputs(kernel: kernel, initramfs: initramfs, request: request, options: options)
    }

    /// A synthetic bzImage good enough for `KernelImage.inspect`.
    static func kernel(in scratch: InitramfsScratch) throws -> String {
        try scratch.write("vmlinuz", KernelImageTests.header())
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
