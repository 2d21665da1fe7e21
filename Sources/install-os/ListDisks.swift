import ArgumentParser
import Installer

/// `install-os list-disks`: every disk with size, transport, model and whether it may be written.
struct ListDisks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-disks",
        abstract: "List every disk with its size, transport, model and whether install-os may write it, and why.")

    @OptionGroup var options: SystemOptions

    func run() throws {
        let console = Console(json: options.json, consoles: [])
        let log = InstallLog { text, level in console.line(text, level: level) }
        let installation = Installation(environment: options.environment(), log: log)
        defer { installation.close() }
        do {
            let listing = try installation.listDisks()
            if options.json {
                console.printJSON(listing)
                return
            }
            for note in listing.notes { console.print("note: \(note)") }
            if let medium = listing.medium { console.print("medium: \(medium.device) (build \(medium.buildID))") }
            console.print("size check: " + (listing.requirement.bytes.map { "at least \($0) bytes (\(listing.requirement.basis))" }
                ?? "none (\(listing.requirement.basis))"))
            console.print(DiskVerdict.table(listing.verdicts).joined(separator: "\n"))
        } catch {
            log.record(error.description, level: .error)
            throw ExitCode(error.exitCode.rawValue)
        }
    }
}
