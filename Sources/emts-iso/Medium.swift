import ArgumentParser
import Foundation
import HybridISO
import InstallMedium
import Installer

/// `emts-iso inspect ISO`: what the medium says about itself.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what an EMT-S ISO holds: boot records, partitions, kernel arguments, the µOS's units and installer, payload.")

    @Argument(help: "The ISO (or a stick written from it).")
    var iso: String

    @Flag(help: "The report as one JSON object.")
    var json = false

    func run() async throws {
        let console = Console(json: json)
        do {
            let report = try MediumReport(try MediumImage(path: iso))
            console.inspect(report)
        } catch {
            console.failure(error)
            throw ExitCode.failure
        }
    }
}

/// `emts-iso verify ISO`: the mission's rules and the manifest, check by check.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check an EMT-S ISO: boot records, partition tables, kernel arguments, agents, packages, install-os, checksums.",
        discussion: "Exits 0 when every check passes, 1 when one fails (each failed check is named), as with any error.")

    @Argument(help: "The ISO to check.")
    var iso: String

    @Flag(help: "The checks as one JSON object.")
    var json = false

    func run() async throws {
        let console = Console(json: json)
        let verification: MediumVerification
        do {
            verification = MediumVerification(try MediumImage(path: iso)) { console.step("checking \($0)") }
        } catch {
            console.failure(error)
            throw ExitCode.failure
        }
        console.verification(verification)
        if !verification.passed { throw ExitCode.failure }
    }
}

/// `emts-iso kargs show|modify|reset ISO`.
struct Kargs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or change the ISO's kernel command line in place, without rebuilding.",
        subcommands: [Show.self, Modify.self, Reset.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the command line the boot menu passes.")
        @Argument(help: "The ISO.") var iso: String
        @Flag(help: "Also print the original line and the areas, as JSON.") var json = false

        func run() async throws {
            try Kargs.run(json: json) {
                let medium = try MediumImage(path: iso)
                let line = try KargsEditor(medium: medium).current()
                return (line, try medium.kargsMap().map)
            }
        }
    }

    struct Modify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append, delete or replace kernel arguments (applied in that order); the µOS's own cannot be dropped.")
        @Argument(help: "The ISO.") var iso: String
        @Option(help: "An argument to add (repeatable).") var append: [String] = []
        @Option(help: "An argument to remove, or KEY to remove every KEY=... (repeatable).") var delete: [String] = []
        @Option(help: ArgumentHelp("Replace KEY=OLD with KEY=NEW (repeatable).", valueName: "KEY=OLD=NEW"))
        var replace: [String] = []
        @Flag(help: "JSON output.") var json = false

        func validate() throws {
            if append.isEmpty, delete.isEmpty, replace.isEmpty {
                throw ValidationError("give --append, --delete or --replace")
            }
        }

        func run() async throws {
            let changes = append.map(KargsEditor.Change.append) + delete.map(KargsEditor.Change.delete)
                + replace.map(KargsEditor.Change.replace)
            try Kargs.run(json: json) {
                let medium = try MediumImage(path: iso)
                return (try KargsEditor(medium: medium).modify(changes), try medium.kargsMap().map)
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore the command line the ISO was built with, byte for byte.")
        @Argument(help: "The ISO.") var iso: String
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            try Kargs.run(json: json) {
                let medium = try MediumImage(path: iso)
                return (try KargsEditor(medium: medium).reset(), try medium.kargsMap().map)
            }
        }
    }

    static func run(json: Bool, _ body: () throws -> (String, KargsMap)) throws {
        let console = Console(json: json)
        do {
            let (line, map) = try body()
            console.kargs(line, map: map)
        } catch {
            console.failure(error)
            throw ExitCode.failure
        }
    }
}

/// `emts-iso config show|set ISO`.
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read or replace the installer config on the ISO's writable config partition, in place.",
        subcommands: [Show.self, Set.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print installer.yaml from the config partition.")
        @Argument(help: "The ISO (or a stick written from it).") var iso: String

        func run() async throws {
            do {
                guard let text = try ConfigPartitionEditor(medium: try MediumImage(path: iso)).show() else {
                    FileHandle.standardError.write(Data("emts-iso: \(iso) has no installer.yaml on its config partition\n".utf8))
                    throw ExitCode.failure
                }
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            } catch let exit as ExitCode {
                throw exit
            } catch {
                Console(json: false).failure(error)
                throw ExitCode.failure
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace installer.yaml on the config partition with FILE.")
        @Argument(help: "The ISO (or a stick written from it).") var iso: String
        @Argument(help: "The new installer config.") var file: String

        func run() async throws {
            do {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw MediumError.refused(path: file, reason: "cannot read it")
                }
                // The installer's own parser: a typo is reported here, with its line, not on the target machine.
                _ = try InstallerConfigFile(yaml: String(decoding: data, as: UTF8.self), path: file)
                try ConfigPartitionEditor(medium: try MediumImage(path: iso)).set([UInt8](data))
                print("installer.yaml on \(iso)'s config partition replaced (\(data.count) bytes)")
            } catch {
                Console(json: false).failure(error)
                throw ExitCode.failure
            }
        }
    }
}
