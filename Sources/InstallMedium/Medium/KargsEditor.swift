import Foundation
import HybridISO
import StreamKit

/// `emts-iso kargs`: changes the medium's kernel command line in place, in the fixed-size areas its kargs map
/// records, without rebuilding (as coreos-installer's `iso kargs modify` does). Every edit is validated
/// against the µOS's rules before a byte is written and read back after.
public struct KargsEditor {
    /// One change to the command line.
    public enum Change: Sendable, Equatable {
        /// Adds the argument at the end.
        case append(String)
        /// Removes every argument equal to it, or every `key=...` when given a bare `key` (an error when
        /// nothing matches).
        case delete(String)
        /// `KEY=OLD=NEW`: replaces the argument `KEY=OLD` with `KEY=NEW` (an error when it is not there).
        case replace(String)
    }

    public let medium: MediumImage

    public init(medium: MediumImage) {
        self.medium = medium
    }

    /// The command line every area holds now.
    /// - Throws: `MediumError.damaged` when the areas disagree.
    public func current() throws -> String {
        let lines = try medium.kernelCommandLines()
        guard let first = lines.first else {
            throw MediumError.damaged(path: medium.path, what: KargsMap.path, reason: "no kargs areas")
        }
        if let other = lines.first(where: { $0.commandLine != first.commandLine }) {
            throw MediumError.damaged(path: medium.path, what: other.path,
                                      reason: "holds a different command line than \(first.path)")
        }
        return first.commandLine
    }

    /// Applies `changes` to `line`, in order.
    /// - Throws: `MediumError.refused` for a change that matches nothing or breaks the µOS's rules.
    public static func apply(_ changes: [Change], to line: String, path: String) throws -> String {
        var arguments = line.split(separator: " ").map(String.init)
        for change in changes {
            switch change {
            case let .append(argument):
                arguments += argument.split(separator: " ").map(String.init)
            case let .delete(argument):
                let before = arguments.count
                arguments.removeAll { $0 == argument || (!argument.contains("=") && $0.hasPrefix(argument + "=")) }
                guard arguments.count < before else {
                    throw MediumError.refused(path: path, reason: "--delete \(argument): not on the command line")
                }
            case let .replace(spec):
                let parts = spec.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 3, !parts[0].isEmpty else {
                    throw MediumError.refused(path: path, reason: "--replace takes KEY=OLD=NEW (got \(spec))")
                }
                let old = parts[0] + "=" + parts[1]
                guard let index = arguments.firstIndex(of: old) else {
                    throw MediumError.refused(path: path, reason: "--replace \(spec): \(old) is not on the command line")
                }
                arguments[index] = parts[0] + "=" + parts[2]
            }
        }
        let result = arguments.joined(separator: " ")
        do {
            try KernelArguments.validate(commandLine: result)
        } catch {
            throw MediumError.refused(path: path, reason: "\(error); the medium was not changed")
        }
        return result
    }

    /// Writes `commandLine` into every kargs area, then reads the areas back.
    /// - Returns: the line now on the medium.
    @discardableResult
    public func write(_ commandLine: String) throws -> String {
        let (map, _) = try medium.kargsMap()
        let area = KargsArea(size: map.size)
        let bytes: [UInt8]
        do {
            bytes = try area.encode(commandLine: commandLine)
        } catch {
            throw MediumError.refused(path: medium.path, reason: "\(error); the medium was not changed")
        }
        let file = try FileSink(updating: medium.path)
        for entry in map.files {
            guard let offset = entry.offset else { continue }
            try file.patch(bytes, at: Int64(offset))
        }
        try file.close()
        let now = try current()
        guard now == commandLine else {
            throw MediumError.damaged(path: medium.path, what: "the kargs areas", reason: "read back \"\(now)\" after writing")
        }
        return now
    }

    /// Applies `changes` to the current line and writes it.
    @discardableResult
    public func modify(_ changes: [Change]) throws -> String {
        try write(try Self.apply(changes, to: try current(), path: medium.path))
    }

    /// Restores the command line the medium was built with: the areas' bytes become exactly the original ones.
    @discardableResult
    public func reset() throws -> String {
        try write(try medium.kargsMap().map.defaultCommandLine)
    }
}

/// `emts-iso config`: the installer config on the medium's writable config partition (GPT partition 3).
public struct ConfigPartitionEditor {
    public let medium: MediumImage

    public init(medium: MediumImage) {
        self.medium = medium
    }

    /// The installer config there, or nil when there is none.
    public func show() throws -> String? {
        let volume = try medium.fatVolume(partition: 3)
        guard try volume.contains(ConfigPartitionImage.installerConfigName) else { return nil }
        return String(decoding: try volume.read(ConfigPartitionImage.installerConfigName), as: UTF8.self)
    }

    /// Replaces it with `bytes` (validated by the caller), reading it back.
    public func set(_ bytes: [UInt8]) throws {
        try medium.fatVolume(partition: 3).write(bytes, to: ConfigPartitionImage.installerConfigName)
    }
}
