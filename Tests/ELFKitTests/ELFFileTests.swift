import ELFKit
import Foundation
import Testing

/// A C compiler on this machine: the Swift toolchain's clang, or the system's cc.
private let compiler: String = {
    for candidate in ["/opt/swift/usr/bin/clang", "/usr/bin/cc", "/usr/bin/clang"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    return "cc"
}()

/// A scratch directory with a tiny program linked against a tiny library of our own.
private struct Fixture {
    let directory: URL
    var program: String { directory.appendingPathComponent("app/bin/hello").path }
    var library: String { directory.appendingPathComponent("app/lib/libgreet.so.1").path }
    var innerLibrary: String { directory.appendingPathComponent("app/lib/libinner.so.2").path }

    /// `runpath`: the program's DT_RUNPATH as given to the linker.
    init(runpath: String = "$ORIGIN/../lib:/nonexistent/padding/for/the/rewrite") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("elfkit-\(UUID().uuidString)")
        let bin = directory.appendingPathComponent("app/bin"), lib = directory.appendingPathComponent("app/lib")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        let librarySource = directory.appendingPathComponent("greet.c")
        // libgreet needs libinner and has no runpath: only an rpath of the program can find libinner.
        let innerSource = directory.appendingPathComponent("inner.c")
        try "#include <stdio.h>\nvoid inner(void) { puts(\"hello from libinner\"); }\n"
            .write(to: innerSource, atomically: true, encoding: .utf8)
        try "#include <stdio.h>\nvoid inner(void);\nvoid greet(void) { puts(\"hello from libgreet\"); inner(); }\n"
            .write(to: librarySource, atomically: true, encoding: .utf8)
        try run(compiler, ["-shared", "-fPIC", "-Wl,-soname,libinner.so.2", "-o", lib.appendingPathComponent("libinner.so.2").path,
                           innerSource.path])
        let programSource = directory.appendingPathComponent("hello.c")
        try "void greet(void);\nint main(void) { greet(); return 0; }\n".write(to: programSource, atomically: true, encoding: .utf8)
        try run(compiler, ["-shared", "-fPIC", "-Wl,-soname,libgreet.so.1", "-o", library, librarySource.path,
                           "-L" + lib.path, "-l:libinner.so.2"])
        try run(compiler, ["-o", program, programSource.path, "-L" + lib.path, "-l:libgreet.so.1",
                           "-Wl,--enable-new-dtags,-rpath," + runpath])
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@discardableResult
private func run(_ tool: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ELFError(path: tool, problem: "exited \(process.terminationStatus): \(output)")
    }
    return output
}

@Suite struct ELFFileTests {
    @Test func readsNeededRunpathAndVersions() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let program = try ELFFile(path: fixture.program)
        #expect(program.kind == .executable || program.kind == .sharedObject) // PIE executables are ET_DYN
        #expect(program.interpreter == "/lib64/ld-linux-x86-64.so.2")
        #expect(program.needed.contains("libgreet.so.1"))
        #expect(program.needed.contains("libc.so.6"))
        #expect(program.searchPath == ["$ORIGIN/../lib", "/nonexistent/padding/for/the/rewrite"])
        let libc = try #require(program.versionNeeds.first { $0.library == "libc.so.6" })
        #expect(libc.versions.contains { $0.hasPrefix("GLIBC_2.") })
        let library = try ELFFile(path: fixture.library)
        #expect(library.soname == "libgreet.so.1")
        #expect(library.kind == .sharedObject)
    }

    @Test func closureFindsOwnLibraryThroughOriginAndLeavesGlibc() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let closure = try LibraryClosure(executable: fixture.program)
        // libinner is found through the program's $ORIGIN/../lib, as an rpath (libgreet has none).
        #expect(closure.libraries.map(\.name) == ["libgreet.so.1", "libinner.so.2"])
        #expect(closure.libraries.first?.path == fixture.library)
        #expect(closure.libraries.first?.neededBy == fixture.program)
        #expect(closure.libraries.last?.neededBy == fixture.library)
        let glibc = try #require(closure.requiredGlibc)
        #expect(glibc.hasPrefix("GLIBC_2."))
    }

    @Test func missingLibraryIsNamedWithWhoNeedsIt() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try FileManager.default.removeItem(atPath: fixture.library)
        #expect {
            try LibraryClosure(executable: fixture.program, searchDirectories: ["/nonexistent"])
        } throws: { error in
            let text = "\(error)"
            return text.contains(fixture.program) && text.contains("needs libgreet.so.1")
        }
    }

    /// The rewritten search path ($ORIGIN, as an rpath) makes the program find both libraries beside it, the
    /// second one needed only by the first; nothing else is searched.
    @Test func searchPathRewriteInPlaceRuns() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let program = try ELFFile(path: fixture.program)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.program))
        for patch in try program.searchPathRewrite(to: "$ORIGIN") {
            bytes.replaceSubrange(patch.offset..<(patch.offset + patch.bytes.count), with: patch.bytes)
        }
        let bundle = fixture.directory.appendingPathComponent("bundle")
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        let moved = bundle.appendingPathComponent("hello").path
        try bytes.write(to: URL(fileURLWithPath: moved))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: moved)
        #expect(try ELFFile(path: moved).searchPath == ["$ORIGIN"])
        // Without the libraries beside it, the loader fails; with them, the program runs.
        #expect(throws: ELFError.self) { try run(moved, [], environment: [:]) }
        try FileManager.default.copyItem(atPath: fixture.library, toPath: bundle.appendingPathComponent("libgreet.so.1").path)
        #expect(throws: ELFError.self) { try run(moved, [], environment: [:]) }
        try FileManager.default.copyItem(atPath: fixture.innerLibrary, toPath: bundle.appendingPathComponent("libinner.so.2").path)
        let output = try run(moved, [], environment: [:])
        #expect(output.contains("hello from libgreet") && output.contains("hello from libinner"))
    }

    @Test func rewriteRefusesALongerPath() throws {
        let fixture = try Fixture(runpath: "$ORIGIN")
        defer { fixture.remove() }
        #expect(throws: ELFError.self) { try ELFFile(path: fixture.program).searchPathRewrite(to: "$ORIGIN/../lib") }
    }

    @Test(arguments: [
        ("not ELF", Data("#!/bin/sh\necho hi\n".utf8), "is not an ELF file"),
        ("32-bit", Data([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1] + [UInt8](repeating: 0, count: 57)), "is not a 64-bit ELF file"),
        ("short", Data([0x7f, 0x45, 0x4c, 0x46, 2, 1]), "is not an ELF file"),
    ])
    func rejectsWhatIsNotOurELF(name: String, bytes: Data, message: String) {
        #expect { try ELFFile(path: "/fixture/\(name)", bytes: bytes) } throws: { error in
            "\(error)" == "/fixture/\(name): \(message)"
        }
    }

    /// Every truncation of a real executable and every corrupted program-header offset fails with a named
    /// error or parses: never a crash.
    @Test func damagedHeadersGiveErrorsNotCrashes() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.program))
        for length in stride(from: 0, to: min(bytes.count, 16384), by: 97) {
            _ = try? ELFFile(path: "cut", bytes: bytes.prefix(length))
        }
        for position in 0..<64 {
            var damaged = bytes
            damaged[position] ^= 0xff
            _ = try? ELFFile(path: "flip", bytes: damaged)
        }
        var hugeOffset = bytes
        for index in 32..<40 { hugeOffset[index] = 0xff } // e_phoff
        #expect(throws: ELFError.self) { try ELFFile(path: "phoff", bytes: hugeOffset) }
    }

    @Test func readsVersionDefinitions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("elfkit-verdef-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("v.c"), script = directory.appendingPathComponent("v.map")
        try "int one(void) { return 1; }\nint two(void) { return 2; }\n".write(to: source, atomically: true, encoding: .utf8)
        try "TEST_1.0 { global: one; local: *; };\nTEST_2.0 { global: two; } TEST_1.0;\n"
            .write(to: script, atomically: true, encoding: .utf8)
        let library = directory.appendingPathComponent("libv.so.1").path
        try run(compiler, ["-shared", "-fPIC", "-Wl,-soname,libv.so.1", "-Wl,--version-script," + script.path,
                           "-o", library, source.path])
        let file = try ELFFile(path: library)
        #expect(file.versionDefinitions == ["TEST_1.0", "TEST_2.0"], "the base entry (the soname) is left out")
        #expect(file.newestGlibcDefinition == nil)

        // This machine's glibc defines its own version last: the one getconf reports.
        let libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6"].first { FileManager.default.fileExists(atPath: $0) }
        let glibc = try #require(libc, "no libc.so.6 on this machine")
        let version = try run("/usr/bin/getconf", ["GNU_LIBC_VERSION"]).split(separator: " ").last.map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try ELFFile(path: glibc).newestGlibcDefinition == version.map { "GLIBC_" + $0 })
    }
}
