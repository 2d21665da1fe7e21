import Foundation
import Yams

/// One `installer.yaml`: its path and the settings it gives, checked against the schema with line numbers.
public struct InstallerConfigFile: Sendable, Equatable {
    /// Files larger than this are refused: a configuration is a few hundred bytes.
    public static let sizeLimit = 1 << 20

    /// The file's path (or a description such as "EMTS-CONFIG:/installer.yaml (/dev/sdb3)").
    public var path: String
    public var settings: InstallerSettings
    /// What the installer should say about the file without refusing it (a legacy `config-file`'s unknown
    /// keys), each naming the file and the line.
    public var warnings: [String]

    public init(path: String, settings: InstallerSettings, warnings: [String] = []) {
        self.path = path
        self.settings = settings
        self.warnings = warnings
    }

    /// Parses YAML text; `path` names it in errors.
    ///
    /// An empty document (or one holding only comments) sets nothing.
    /// - Throws: `InstallerConfigError` naming `path`, the key and its line: YAML syntax, an unknown or
    ///   duplicated key, a value of the wrong type or not accepted.
    public init(yaml text: String, path: String) throws(InstallerConfigError) {
        self.path = path
        settings = try Self.decode(InstallerSettings.self, yaml: text, path: path) ?? InstallerSettings()
        warnings = []
    }

    /// Decodes a YAML document into a configuration schema (`InstallerSettings`, or any type whose sections
    /// use `strictContainer(keyedBy:)`), placing every problem on its line. `nil` for an empty document.
    public static func decode<Schema: Decodable>(_ schema: Schema.Type, yaml text: String,
                                          path: String) throws(InstallerConfigError) -> Schema? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, path: path)
        } catch {
            throw .syntax(file: path, line: nil, message: "\(error)")
        }
        guard let root, !isEmptyDocument(root) else { return nil }
        guard root.mapping != nil else {
            throw .wrongType(file: path, key: "the document", line: root.mark?.line,
                             expected: "a mapping of keys (key: value lines)", found: describe(root))
        }
        do {
            return try YAMLDecoder().decode(schema, from: root)
        } catch let problem as ConfigDecodingProblem {
            throw error(for: problem, root: root, path: path)
        } catch let error as DecodingError {
            throw Self.error(for: error, root: root, path: path)
        } catch {
            throw .syntax(file: path, line: nil, message: "\(error)")
        }
    }

    /// Reads and parses the file at `path`; `nil` when there is no such file.
    /// - Parameter displayName: names the file in errors (default: `path`).
    /// - Throws: `InstallerConfigError` when the file exists but cannot be read or used.
    public static func read(_ path: String, displayName: String? = nil) throws(InstallerConfigError) -> InstallerConfigFile? {
        let name = displayName ?? path
        guard let text = try readText(path, displayName: name) else { return nil }
        return try InstallerConfigFile(yaml: text, path: name)
    }

    /// The UTF-8 text of a configuration file (without a byte-order mark); `nil` when there is no such file.
    /// - Throws: `InstallerConfigError.unreadable` naming `name`: cannot be read, too large, not UTF-8.
    static func readText(_ path: String, displayName name: String) throws(InstallerConfigError) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: sizeLimit + 1) ?? Data()
        } catch {
            throw .unreadable(file: name, reason: "cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= sizeLimit else {
            throw .unreadable(file: name, reason: "larger than \(sizeLimit) bytes; is this the installer configuration?")
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw .unreadable(file: name, reason: "is UTF-16 text; save it as UTF-8")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .unreadable(file: name, reason: "is not UTF-8 text; save it as UTF-8")
        }
        return text
    }

    // MARK: - Errors placed on lines

    private static func syntaxError(_ error: YamlError, path: String) -> InstallerConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let text = context.map { "\($0.text) \(problem)" } ?? problem
            return .syntax(file: path, line: mark.line, message: text)
        case .reader(let problem, _, _, _):
            return .syntax(file: path, line: nil, message: problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .duplicateKey(file: path, key: duplicates.sorted().joined(separator: ", "), line: context.mark.line)
        default:
            return .syntax(file: path, line: nil, message: "\(error)")
        }
    }

    private static func error(for problem: ConfigDecodingProblem, root: Node, path: String) -> InstallerConfigError {
        let key = problem.path.joinedAsKey
        switch problem.kind {
        case .unknownKey(let known):
            let name = problem.path.last ?? key
            return .unknownKey(file: path, key: key, line: keyNode(at: problem.path, in: root)?.mark?.line,
                               known: known, suggestion: closestKey(to: name, among: known))
        case .invalidValue(let message):
            return .invalidValue(file: path, key: key, line: lineOfValue(at: problem.path, in: root), message: message)
        }
    }

    private static func error(for error: DecodingError, root: Node, path: String) -> InstallerConfigError {
        switch error {
        case .typeMismatch(let type, let context):
            let keys = configPath(context.codingPath)
            let found = node(at: keys, in: root).map(describe) ?? "that value"
            return .wrongType(file: path, key: keys.joinedAsKey, line: lineOfValue(at: keys, in: root),
                              expected: expectation(type, at: keys), found: found)
        case .valueNotFound(let type, let context):
            let keys = configPath(context.codingPath)
            return .wrongType(file: path, key: keys.joinedAsKey, line: lineOfValue(at: keys, in: root),
                              expected: expectation(type, at: keys), found: "empty")
        case .keyNotFound(let key, let context):
            let keys = configPath(context.codingPath)
            return .invalidValue(file: path, key: keys.isEmpty ? key.stringValue : keys.joinedAsKey,
                                 line: lineOfValue(at: keys, in: root), message: "needs the key \"\(key.stringValue)\"")
        case .dataCorrupted(let context):
            let keys = configPath(context.codingPath)
            return .invalidValue(file: path, key: keys.joinedAsKey, line: lineOfValue(at: keys, in: root),
                                 message: context.debugDescription)
        @unknown default:
            return .syntax(file: path, line: nil, message: "\(error)")
        }
    }

    /// What a key takes: from the schema for known keys (Yams only knows it wanted "a scalar"), else
    /// from the Swift type.
    private static func expectation(_ type: Any.Type, at keys: [String]) -> String {
        if keys.count == 1, let key = InstallerSettings.Key(rawValue: keys[0]) { return key.expectation }
        if keys.count == 1, let key = InstallerSettings.SystemKey(rawValue: keys[0]) { return key.expectation }
        return switch type {
        case is Int.Type, is Int64.Type, is UInt64.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "a single value (text)"
        case is Node.Mapping.Type: "a mapping of keys"
        case is Node.Sequence.Type: "a list"
        case is Node.Scalar.Type: "a single value"
        default: "a \(type)"
        }
    }

    /// How a value reads in an error message.
    private static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "..." : scalar.string
            return "\"\(text)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    // MARK: - Walking the YAML tree

    private static func isEmptyDocument(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.string.isEmpty || node.null != nil
    }

    /// The value node at `path` (keys and "[i]" indices).
    private static func node(at path: [String], in root: Node) -> Node? {
        var current = root
        for component in path {
            if let index = sequenceIndex(component), let sequence = current.sequence {
                guard sequence.indices.contains(index) else { return nil }
                current = sequence[index]
            } else if let value = current.mapping?[component] {
                current = value
            } else {
                return nil
            }
        }
        return current
    }

    /// The key node naming the last component of `path`.
    private static func keyNode(at path: [String], in root: Node) -> Node? {
        guard let last = path.last, let parent = node(at: Array(path.dropLast()), in: root)?.mapping else { return nil }
        return parent.first { $0.key.string == last }?.key
    }

    /// The line of the value at `path`, or of its key when the value carries no mark (an empty value).
    private static func lineOfValue(at path: [String], in root: Node) -> Int? {
        node(at: path, in: root)?.mark?.line ?? keyNode(at: path, in: root)?.mark?.line ?? root.mark?.line
    }

    private static func sequenceIndex(_ component: String) -> Int? {
        guard component.hasPrefix("["), component.hasSuffix("]") else { return nil }
        return Int(component.dropFirst().dropLast())
    }
}

extension [String] {
    /// `user.ssh_keys[0]`: keys joined by dots, indices attached.
    var joinedAsKey: String {
        reduce(into: "") { result, component in
            if component.hasPrefix("[") || result.isEmpty { result += component } else { result += "." + component }
        }
    }
}
