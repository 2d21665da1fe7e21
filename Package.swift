// swift-tools-version: 6.2
//
// emts-iso: builds the EMT-S install ISO from the µOS and carries the installer that runs inside it.
//
// Layers (dependencies point down only):
//   CLIs      emts-iso, install-os            argument parsing and output only
//   features  InstallMedium                   the whole build: edited µOS inside the hybrid ISO, manifest
//             HybridISO                       GRUB images, ESP image, boot menus: the bootable ISO's parts
//             MicroOS                         read the µOS initramfs, plan edits, rewrite it in one stream
//             BootTest                        QEMU boot harness (becomes `emts-iso boot-test`)
//             Installer                       install-os: config, medium, target disk, image writer
//   kits      ArchiveKit, ISOKit, DiskKit,    one Swift wrapper per C library, typed errors
//             XZKit, DeflateKit, PackageKit               (PackageKit: .rpm and .deb readers, dependency closure)
//             StreamKit                       byte sources and sinks, files, threads: the plumbing of every stream
//   C         CArchive, CISOFS, CBlkid, CParted, CLZMA, CCrypt, CSELinux, CZlib   module map + shim header only
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "emts-iso",
    products: [
        .executable(name: "emts-iso", targets: ["emts-iso"]),
        .executable(name: "install-os", targets: ["install-os"]),
        // The parsers, for the libFuzzer targets of the separate fuzz/ package.
        .library(name: "EMTSKits", targets: ["ArchiveKit", "MicroOS", "PackageKit", "ISOKit", "InstallMedium", "Installer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C: one system library per C library, found with pkg-config.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CISOFS", pkgConfig: "libisofs-1",
                       providers: [.apt(["libisofs-dev", "libburn-dev", "libisoburn-dev"])]),
        .systemLibrary(name: "CBlkid", pkgConfig: "blkid",
                       providers: [.apt(["libblkid-dev"])]),
        .systemLibrary(name: "CParted", pkgConfig: "libparted",
                       providers: [.apt(["libparted-dev"])]),
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma",
                       providers: [.apt(["liblzma-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt",
                       providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CSELinux", pkgConfig: "libselinux",
                       providers: [.apt(["libselinux1-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // Kits: the only modules that import the C modules.
        .target(name: "StreamKit", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: strict),
        .target(name: "ArchiveKit", dependencies: ["CArchive", "StreamKit"], swiftSettings: strict),
        .target(name: "XZKit", dependencies: ["CLZMA", "StreamKit"], swiftSettings: strict),
        // Deflate streams at block level: index a gzip stream, splice an edited copy without recompressing it.
        .target(name: "DeflateKit", dependencies: ["CZlib", "StreamKit"], swiftSettings: strict),
        .target(name: "ISOKit", dependencies: ["CISOFS"], swiftSettings: strict),
        .target(name: "DiskKit", dependencies: ["CBlkid", "CParted"], swiftSettings: strict),
        .target(name: "PackageKit", dependencies: ["ArchiveKit"], swiftSettings: strict),
        .target(name: "ELFKit", swiftSettings: strict),

        // Features.
        .target(name: "Release", swiftSettings: strict),
        .target(name: "HybridISO", dependencies: [
            "ISOKit", "DiskKit", "StreamKit",
            .product(name: "Crypto", package: "swift-crypto"),
        ],
        // The ISO's assets (boot menu templates); the top-level iso/ links here.
        resources: [.copy("Templates")], swiftSettings: strict),
        .target(name: "InstallMedium", dependencies: [
            "MicroOS", "HybridISO", "ISOKit", "DiskKit", "StreamKit",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: strict),
        .target(name: "MicroOS", dependencies: [
            "ArchiveKit", "XZKit", "DeflateKit", "PackageKit", "ELFKit",
            .product(name: "Crypto", package: "swift-crypto"),
        ],
        // install-os's systemd unit, injected with it; the top-level installer/ links here.
        resources: [.copy("Unit")], swiftSettings: strict),
        .target(name: "BootTest", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "SystemPackage", package: "swift-system"),
        ], swiftSettings: strict),

        .target(name: "Installer", dependencies: [
            "DiskKit", "ArchiveKit", "StreamKit", "Release", "CSELinux",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "SystemPackage", package: "swift-system"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),

        // CLIs.
        .executableTarget(name: "emts-iso", dependencies: [
            "Release", "BootTest", "MicroOS", "HybridISO", "InstallMedium", "Installer", "CCrypt",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .executableTarget(name: "install-os", dependencies: [
            "Release", "Installer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),

        // Unit tests mirror the modules; QEMU boots live in EndToEndTests.
        .testTarget(name: "StreamKitTests", dependencies: ["StreamKit", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ArchiveKitTests", dependencies: ["ArchiveKit"]),
        .testTarget(name: "XZKitTests", dependencies: ["XZKit", "ArchiveKit"]),
        .testTarget(name: "DeflateKitTests", dependencies: ["DeflateKit", "CZlib"]),
        .testTarget(name: "ISOKitTests", dependencies: ["ISOKit"]),
        .testTarget(name: "DiskKitTests", dependencies: ["DiskKit"]),
        .testTarget(name: "ELFKitTests", dependencies: ["ELFKit"]),
        // Builders of real .rpm and .deb files (rpmbuild, dpkg-deb) for the PackageKit and MicroOS tests.
        .target(name: "PackageFixtures", path: "Tests/PackageFixtures"),
        .testTarget(name: "PackageKitTests", dependencies: ["PackageKit", "ArchiveKit", "PackageFixtures"]),
        .testTarget(name: "InstallerTests", dependencies: ["Installer", "DiskKit", "ArchiveKit"]),
        .testTarget(name: "BootTestTests", dependencies: ["BootTest"]),
        .testTarget(name: "MicroOSTests", dependencies: ["MicroOS", "ArchiveKit", "DeflateKit", "PackageKit", "PackageFixtures"]),
        .testTarget(name: "HybridISOTests", dependencies: ["HybridISO", "ISOKit", "DiskKit"]),
        .testTarget(name: "InstallMediumTests", dependencies: ["InstallMedium", "HybridISO"]),
        .testTarget(name: "emts-isoTests", dependencies: ["emts-iso"]),
        .testTarget(name: "EndToEndTests", dependencies: ["BootTest", "MicroOS", "ArchiveKit", "HybridISO", "InstallMedium", "StreamKit"],
                    exclude: ["Fixtures"]),
    ]
)
