import Foundation
@testable import HybridISO

/// Runs `body` with a fresh directory of its own (parallel tests never share one), removed afterwards.
func withScratchDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("hybridiso-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func bytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

@discardableResult
func mtools(_ tool: ExternalTool, _ arguments: [String]) throws -> ExternalTool.Output {
    try tool.run(arguments, step: "test", environment: FATImage.mtoolsEnvironment)
}

/// The repository's top-level folder, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

