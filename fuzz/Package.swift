// swift-tools-version: 6.2
//
// libFuzzer targets for every parser of emts-iso (issue 10). A package of its own so that the main package's
// `swift build` / `swift test` never see them: a fuzz target has no `main` (libFuzzer's is linked in), so it
// only links with `--sanitize fuzzer`. Build and run them with fuzz/run.sh (see fuzz/README.md):
//
//   swift build -c release --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address --package-path fuzz --scratch-path .build-fuzz
//
// Each target exports LLVMFuzzerTestOneInput and feeds the bytes to the real entry point; a thrown error is the
// expected answer to a bad input, so only crashes, traps, leaks, timeouts and running out of memory are findings.
import PackageDescription

// The fuzz entry point is a plain function, no top-level code: parse the file as a library.
let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name,
                      dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: "emts-iso") },
                      swiftSettings: fuzzFlags)
}

let package = Package(
    name: "emts-iso-fuzz",
    dependencies: [
        .package(name: "emts-iso", path: ".."),
    ],
    targets: [
        // The input as a file (the readers open paths), a tiny newc cpio writer for wrapping inputs, and what
        // the package targets share (metadata touched, payload drained).
        .target(name: "FuzzSupport", dependencies: [.product(name: "EMTSKits", package: "emts-iso")]),
        // 1. initramfs segments: concatenated newc cpio archives, plain or compressed, zero padding.
        fuzzTarget("FuzzInitramfs", ["EMTSKits"]),
        // 2. the nested root filesystem archive (tar, compressed or not) as the editor scans, indexes, plans,
        //    lists and rewrites it; and as a µOS image tarball (`--uos-tarball`).
        fuzzTarget("FuzzRootfsArchive", ["EMTSKits"]),
        // 3. .rpm: lead, signature, header, cpio payload.
        fuzzTarget("FuzzRPM", ["EMTSKits"]),
        // 4. .deb: ar, control, data.tar.
        fuzzTarget("FuzzDeb", ["EMTSKits"]),
        // 5. ISO images as `emts-iso inspect` / `kargs` read them: directory check, libisofs import, El Torito,
        //    kargs map, the µOS on the medium.
        fuzzTarget("FuzzISO", ["EMTSKits"]),
        // 6. installer.yaml.
        fuzzTarget("FuzzInstallerYAML", ["EMTSKits"]),
        // 7. today's config-file (KEY="value" lines, then a YAML tail).
        fuzzTarget("FuzzLegacyConfig", ["EMTSKits"]),
    ]
)
