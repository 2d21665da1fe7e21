/// One paragraph of a deb822 file: a package's `control` file, or one entry of dpkg's `status` database.
///
/// Keeps the fields in order, and the paragraph's text exactly as read (for writing it into dpkg's database
/// later). A continued value keeps its lines, each without its leading blanks, joined by "\n".
public struct DebianControlParagraph: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A line that is not a field, a continuation, a comment or a separator.
    public struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        /// 1-based line number in the parsed text.
        public var line: Int
        public var message: String

        public var description: String { "line \(line): \(message)" }
    }

    public let fields: [Field]
    /// The paragraph's lines as read, each ending in "\n".
    public let text: String

    public init(fields: [Field], text: String) {
        self.fields = fields
        self.text = text
    }

    /// The value of the field called `name` (field names are case-insensitive), nil when absent.
    public subscript(_ name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// Splits `text` into paragraphs (separated by blank lines); `#` comment lines are skipped.
    /// - Throws: `SyntaxError` for a line without a field name, a continuation before any field, or a field
    ///   given twice in one paragraph.
    public static func parse(_ text: String) throws(SyntaxError) -> [DebianControlParagraph] {
        var paragraphs: [DebianControlParagraph] = []
        var fields: [Field] = []
        var names: Set<String> = []
        var lines: [Substring] = []

        func finish() {
            if !fields.isEmpty {
                paragraphs.append(DebianControlParagraph(fields: fields, text: lines.map { $0 + "\n" }.joined()))
            }
            fields = []
            names = []
            lines = []
        }

        for (number, line) in text.lineList.enumerated() {
            if line.trimmedBlanks.isEmpty {
                finish()
                continue
            }
            if line.first == "#" { continue }
            if line.first == " " || line.first == "\t" {
                guard !fields.isEmpty else {
                    throw SyntaxError(line: number + 1, message: "a continuation line before any field")
                }
                fields[fields.count - 1].value += "\n" + line.trimmedBlanks
                lines.append(line)
                continue
            }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw SyntaxError(line: number + 1, message: "not a \"Field: value\" line: \"\(line.prefix(80))\"")
            }
            let name = String(line[..<colon])
            guard !name.contains(" "), !name.contains("\t") else {
                throw SyntaxError(line: number + 1, message: "field name \"\(name)\" contains blanks")
            }
            guard names.insert(name.lowercased()).inserted else {
                throw SyntaxError(line: number + 1, message: "field \(name) appears twice in one paragraph")
            }
            fields.append(Field(name: name, value: line[line.index(after: colon)...].trimmedBlanks))
            lines.append(line)
        }
        finish()
        return paragraphs
    }
}
