import ArgumentParser
import Foundation
@testable import emts_iso
import Installer
import Testing

@Suite struct HashPasswordTests {
    @Test func hashVerifiesWithTheSamePasswordOnly() throws {
        let password = Array("correct horse battery staple".utf8)
        let hash = try PasswordHasher.hash(password, rounds: 10_000)
        #expect(hash.hasPrefix("$6$rounds=10000$"))
        let parts = hash.split(separator: "$")
        #expect(parts.count == 4 && parts[2].count == 16 && parts[3].count == 86, "\(hash)")
        #expect(PasswordHasher.verify(password, against: hash))
        #expect(!PasswordHasher.verify(Array("correct horse battery stapler".utf8), against: hash))
        #expect(!PasswordHasher.verify(password, against: "$6$rounds=5000$abc$" + String(repeating: "x", count: 86)))
        // A fresh salt each time.
        #expect(try PasswordHasher.hash(password, rounds: 10_000) != hash)
        // What install-os accepts as user.password_hash.
        let config = try InstallerConfigFile(yaml: "user:\n  name: edge\n  password_hash: \"\(hash)\"\n", path: "t")
        #expect(config.settings.user?.passwordHash?.cryptString == hash)
    }

    @Test func defaultRoundsAndOpenSSLCompatibility() throws {
        let hash = try PasswordHasher.hash(Array("secret".utf8), rounds: PasswordHasher.defaultRounds)
        #expect(hash.hasPrefix("$6$rounds=100000$"))
        // A hash made by another tool (openssl passwd -6 -salt saltsalt123 secret) checks with libxcrypt too.
        let openssl = "$6$saltsalt123$.PCdeXon.6T0jksOVnR1TCCff2j2XNu98yk83wK9lQLfeOtFRmrn79q3JG8UeNmfEY41cF5O8gbRUyN29x2qf/"
        #expect(PasswordHasher.verify(Array("secret".utf8), against: openssl))
        #expect(!PasswordHasher.verify(Array("Secret".utf8), against: openssl))
    }

    @Test func emptyAndOversizedPasswordsAreRefused() {
        #expect(throws: PasswordError(description: "the password is empty; refused")) {
            try PasswordHasher.hash([], rounds: 10_000)
        }
        #expect(throws: PasswordError.self) { try PasswordHasher.hash([UInt8](repeating: 65, count: 600), rounds: 10_000) }
        #expect(throws: PasswordError.self) { try PasswordHasher.hash([65, 0, 66], rounds: 10_000) }
    }

    @Test func readsOneLineFromAPipe() throws {
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data("s3cret pass\r\nsecond line\n".utf8))
        try pipe.fileHandleForWriting.close()
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        #expect(try PasswordInput.line(from: descriptor) == Array("s3cret pass".utf8))
        #expect(try PasswordInput.line(from: descriptor) == Array("second line".utf8))
        #expect(try PasswordInput.line(from: descriptor) == [])
    }

    @Test func roundsAreValidated() throws {
        #expect(try HashPassword.parse(["--stdin"]).rounds == 100_000)
        #expect(try HashPassword.parse(["--stdin", "--rounds", "1000"]).rounds == 1000)
        #expect(throws: (any Error).self) { try HashPassword.parse(["--rounds", "999"]) }
        #expect(throws: (any Error).self) { try HashPassword.parse(["--rounds", "1000000000"]) }
    }

    /// The built `emts-iso hash-password --stdin`, as a user runs it: the hash on standard output, nothing of the
    /// password anywhere; an empty line refused with exit code 1.
    @Test func commandReadsStandardInput() throws {
        let tool = try #require(Self.builtTool(), "emts-iso is not beside the test bundle: build with --build-tests")
        let good = try Self.run(tool, ["hash-password", "--stdin", "--rounds", "10000"], input: "pa55word\n")
        #expect(good.status == 0, "\(good.error)")
        let hash = good.output.trimmingCharacters(in: .newlines)
        #expect(hash.hasPrefix("$6$rounds=10000$") && !good.output.contains("pa55word") && !good.error.contains("pa55word"))
        #expect(PasswordHasher.verify(Array("pa55word".utf8), against: hash))

        let empty = try Self.run(tool, ["hash-password", "--stdin"], input: "\n")
        #expect(empty.status == 1)
        #expect(empty.output.isEmpty)
        #expect(empty.error.contains("the password is empty"))
    }

    static func builtTool() -> String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0 ..< 4 {
            let candidate = directory.appendingPathComponent("emts-iso").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    static func run(_ tool: String, _ arguments: [String], input: String) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let error = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}
