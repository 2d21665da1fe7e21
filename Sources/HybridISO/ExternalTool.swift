import Foundation

/// A command-line tool this module runs, and the Debian package to install when it is missing.
struct ExternalTool: Sendable {
    let name: String
    let package: String

    static let grubMkimage = ExternalTool(name: "grub-mkimage", package: "grub-common")
    static let mkfsVFAT = ExternalTool(name: "mkfs.vfat", package: "dosfstools")
    static let mcopy = ExternalTool(name: "mcopy", package: "mtools")
    static let mtype = ExternalTool(name: "mtype", package: "mtools")
    static let mdir = ExternalTool(name: "mdir", package: "mtools")
    static let sbsign = ExternalTool(name: "sbsign", package: "sbsigntool")
    static let sbverify = ExternalTool(name: "sbverify", package: "sbsigntool")
    static let objcopy = ExternalTool(name: "objcopy", package: "binutils")
    static let openssl = ExternalTool(name: "openssl", package: "openssl")

    /// What a finished run printed.
    struct Output: Sendable {
        var standardOutput: Data
        var standardError: String
    }

    // mkfs.vfat lives in /usr/sbin, which a non-root PATH often lacks.
    func locate() throws(HybridISOError) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw .toolMissing(tool: name, package: package)
    }

    /// Runs the tool with `arguments` (stdin from /dev/null), failing unless it exits with status 0.
    /// - Parameter step: what the run does, for the error ("formatting esp.img").
    /// - Parameter environment: variables set on top of this process's environment.
    @discardableResult
    func run(_ arguments: [String], step: String, environment: [String: String] = [:])
        throws(HybridISOError) -> Output
    {
        let executable = try locate()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw .toolFailed(tool: name, step: step, status: -1, output: "cannot start \(executable): \(error)")
        }
        // Drain stderr on another thread so neither pipe can fill up and stall the tool.
        let errorBox = DataBox()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errorBox.data = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let standardOutput = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        let standardError = String(decoding: errorBox.data, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let status = process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
            throw .toolFailed(tool: name, step: step, status: status, output: standardError)
        }
        return Output(standardOutput: standardOutput, standardError: standardError)
    }
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}
