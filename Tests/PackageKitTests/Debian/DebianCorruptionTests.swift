@testable import PackageKit
import PackageFixtures
import Testing

@Suite struct DebianCorruptionTests {
    private let validControl = "Package: x\nVersion: 1\nArchitecture: all\n"

    /// Reads `bytes` as a .deb (control and data) and returns the error, checking it names the file.
    private func error(_ bytes: [UInt8], readData: Bool = false) throws -> PackageError {
        let scratch = try Scratch()
        let path = try scratch.write("damaged.deb", bytes)
        return namedError(reading: path) { () throws(PackageError) in
            let package = try DebianPackage(path: path)
            if readData { try drain(try package.payload()) }
        }
    }

    @Test func handMadePackageReads() throws {
        let scratch = try Scratch()
        let path = try scratch.write("x.deb", try ArFixture.deb(control: validControl))
        let package = try DebianPackage(path: path)
        #expect(package.metadata.name == "x")
        #expect(try payloadEntries(.deb(package)).map(\.entry.path) == ["/usr/share/x"])
    }

    @Test func notAnArchive() throws {
        let error = try error(Array("just some text, not a package\n".utf8))
        guard case .notAPackage = error else { Issue.record("\(error)"); return }
    }

    @Test func arWithoutDebianBinary() throws {
        let error = try error(ArFixture.archive([("hello.txt", Array("hi\n".utf8))]))
        guard case .notAPackage(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("debian-binary"))
    }

    @Test func cutInsideAMember() throws {
        let scratch = try Scratch()
        var bytes = try scratch.read(try DebFixture(name: "cut").build(in: scratch))
        bytes.removeLast(20)
        let error = try error(bytes)
        guard case .truncated(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("data.tar.xz"))
    }

    @Test func cutInsideAMemberHeader() throws {
        let bytes = try ArFixture.deb(control: validControl)
        let error = try error(Array(bytes.prefix(8 + 30)))
        guard case .truncated = error else { Issue.record("\(error)"); return }
    }

    @Test func malformedMemberSize() throws {
        var bytes = try ArFixture.deb(control: validControl)
        bytes[8 + 48] = UInt8(ascii: "x")
        let error = try error(bytes)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("size"))
    }

    @Test func missingDataMember() throws {
        let bytes = ArFixture.archive([("debian-binary", Array("2.0\n".utf8)),
                                       ("control.tar.gz", try ArFixture.tar([("./control", validControl)]))])
        let error = try error(bytes)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("data.tar"))
    }

    @Test func unknownMemberCompression() throws {
        let bytes = ArFixture.archive([("debian-binary", Array("2.0\n".utf8)),
                                       ("control.tar.lz", [1, 2, 3]), ("data.tar.gz", try ArFixture.tar([]))])
        let error = try error(bytes)
        guard case .unsupportedCompression(_, let compression) = error else { Issue.record("\(error)"); return }
        #expect(compression == "control.tar.lz")
    }

    @Test func memberNotCompressedAsNamed() throws {
        let bytes = ArFixture.archive([("debian-binary", Array("2.0\n".utf8)),
                                       ("control.tar.xz", try ArFixture.tar([("./control", validControl)])),
                                       ("data.tar.gz", try ArFixture.tar([]))])
        let error = try error(bytes)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("control.tar.xz"))
    }

    @Test func futureFormatVersion() throws {
        let bytes = ArFixture.archive([("debian-binary", Array("3.0\n".utf8))])
        let error = try error(bytes)
        guard case .unsupported = error else { Issue.record("\(error)"); return }
    }

    @Test(arguments: ["Version: 1\nArchitecture: all\n", "Package: x\nArchitecture: all\n", "Package x\n",
                      "Package: x\nVersion: 1\nArchitecture: all\nDepends: a (>= \n"])
    func badControlFile(_ control: String) throws {
        let error = try error(try ArFixture.deb(control: control))
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("control"))
    }

    @Test func controlArchiveWithoutControl() throws {
        let bytes = ArFixture.archive([("debian-binary", Array("2.0\n".utf8)),
                                       ("control.tar.gz", try ArFixture.tar([("./md5sums", "")])),
                                       ("data.tar.gz", try ArFixture.tar([]))])
        let error = try error(bytes)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("no control file"))
    }

    @Test func damagedDataFailsWhileStreaming() throws {
        var data = try ArFixture.tar([("./usr/share/x", String(repeating: "payload ", count: 4000))])
        for offset in stride(from: 20, to: data.count - 8, by: 5) { data[offset] ^= 0x33 }
        let error = try error(try ArFixture.deb(control: validControl, data: data), readData: true)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.hasPrefix("data.tar.gz"))
    }

    @Test func unsafePathsInData() throws {
        let data = try ArFixture.tar([("../../etc/passwd", "root::0:0::/:/bin/sh\n")])
        let error = try error(try ArFixture.deb(control: validControl, data: data), readData: true)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("unsafe"))
    }
}
