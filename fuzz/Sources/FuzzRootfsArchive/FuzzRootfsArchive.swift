import ArchiveKit
import FuzzSupport
import Glibc
import MicroOS

/// The input is the nested root filesystem archive (`rootfs.tar.gz`, any compression or none). It is wrapped as
/// that entry of a plain cpio initramfs and put through what the editor does with it: the scan and its index of
/// paths, symlinks and unit files; the edit plan (the standard request: agents disabled); the facts `inspect`
/// prints; the listing with digests; and the streaming rewrite, recompressed and (gzip) spliced, whose listings
/// must agree. Then the input is read as a µOS image tarball
/// (`--uos-tarball`) next to an initramfs without a nested archive.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let limits = UnpackLimits(totalBytes: 64 << 20, entryBytes: 16 << 20, entries: 100_000)
    var cpio = NewcArchive()
    cpio.add("init", mode: 0o100755, data: Array("#!/bin/sh\n".utf8))
    cpio.add("rootfs.tar.gz", data: UnsafeRawBufferPointer(start: data, count: size))
    cpio.finish()
    let initramfs = FuzzInput.write(cpio.bytes, as: "initramfs")
    let output = FuzzInput.path("rewritten")
    let spliced = FuzzInput.path("spliced")
    defer {
        unlink(output)
        unlink(spliced)
    }

    do {
        let options = RewriteOptions(outerCompression: .none, limits: limits)
        let scan = try MicroOSRewriter.scan(initramfs: initramfs, options: options)
        _ = MicroOSFacts(scan: scan)
        _ = scan.index.unitLinks
        let plan = try EditPlan.resolve(.standard, against: scan.index)
        _ = try MicroOSRewriter.rewrite(initramfs: initramfs, plan: plan, output: output, options: options)
        if let splice = scan.nestedSplice {
            // Differential: the spliced gzip stream must unpack to what the whole recompression gives.
            _ = try MicroOSRewriter.rewrite(initramfs: initramfs, plan: plan, output: spliced, options: options,
                                            splice: splice)
            let whole = try MicroOSListing(initramfs: output, limits: limits).nested
            let edited = try MicroOSListing(initramfs: spliced, limits: limits).nested
            if whole != edited { fatalError("the spliced and the recompressed nested archives differ") }
        }
    } catch {}
    do {
        _ = try MicroOSListing(initramfs: initramfs, limits: limits)
    } catch {}

    let tarball = FuzzInput.write(data, size, as: "uos.tar.gz")
    do {
        let options = RewriteOptions(outerCompression: .none, rootfs: .tarball(path: tarball), limits: limits)
        let scan = try MicroOSRewriter.scan(initramfs: outerOnly, options: options)
        _ = try EditPlan.resolve(.standard, against: scan.index)
    } catch {}
    return 0
}

/// An initramfs with no nested archive, for the `--uos-tarball` path.
let outerOnly: String = {
    var cpio = NewcArchive()
    cpio.add("init", mode: 0o100755, data: Array("#!/bin/sh\n".utf8))
    cpio.finish()
    return FuzzInput.write(cpio.bytes, as: "outer-initramfs")
}()
