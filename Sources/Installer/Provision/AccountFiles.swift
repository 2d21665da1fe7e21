/// A colon-separated account file (`/etc/passwd`, `/etc/group`, `/etc/shadow`, `/etc/gshadow`), kept line by
/// line so that lines it does not touch (comments, NIS `+` lines, odd entries) are written back unchanged.
struct AccountFile: Equatable {
    /// The path in the target, for messages.
    let path: String
    private(set) var lines: [String]

    init(path: String, text: String) {
        self.path = path
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
    }

    /// The file's text, each line ended by a newline.
    var text: String { lines.map { $0 + "\n" }.joined() }

    /// The fields of each entry (lines that are not comments, blank, or NIS `+`/`-` lines).
    var entries: [[String]] {
        lines.compactMap { line in Self.isEntry(line) ? Self.fields(line) : nil }
    }

    /// The fields of the entry named `name` (first field), the first one when there are several.
    func entry(named name: String) -> [String]? {
        index(of: name).map { Self.fields(lines[$0]) }
    }

    /// Replaces the entry named `fields[0]`, or appends it.
    mutating func set(_ fields: [String]) {
        let line = fields.joined(separator: ":")
        if let index = index(of: fields[0]) {
            lines[index] = line
        } else {
            lines.append(line)
        }
    }

    /// The numeric values of field `field` over all entries (uids of passwd, gids of group).
    func numbers(inField field: Int) -> Set<Int> {
        Set(entries.compactMap { $0.count > field ? Int($0[field]) : nil })
    }

    private func index(of name: String) -> Int? {
        lines.firstIndex { Self.isEntry($0) && Self.fields($0).first == name }
    }

    static func isEntry(_ line: String) -> Bool {
        guard let first = line.first else { return false }
        return first != "#" && first != "+" && first != "-" && line.contains(":")
    }

    static func fields(_ line: String) -> [String] {
        line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }

    /// `fields` padded with empty fields up to `count`.
    static func padded(_ fields: [String], to count: Int) -> [String] {
        fields.count >= count ? fields : fields + Array(repeating: "", count: count - fields.count)
    }

    /// A comma-separated member list with `name` added (unchanged when it is there).
    static func adding(_ name: String, toMembers members: String) -> String {
        var list = members.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
        if !list.contains(name) { list.append(name) }
        return list.joined(separator: ",")
    }
}

/// The settings of `/etc/login.defs` that `useradd` would use.
struct LoginDefinitions: Equatable {
    var uidMin = 1000
    var uidMax = 60000
    var gidMin = 1000
    var gidMax = 60000
    /// `HOME_MODE`, else `0777 & ~UMASK` (`UMASK` 022 by default).
    var homeMode: UInt32 = 0o755
    /// Subordinate ids for a new user (`SUB_UID_MIN`, `SUB_UID_MAX`, `SUB_UID_COUNT`, and the `SUB_GID_`
    /// ones): rootless containers map them.
    var subUID = SubordinateRange.Limits()
    var subGID = SubordinateRange.Limits()

    init() {}

    init(text: String) {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, !words[0].hasPrefix("#") else { continue }
            values[String(words[0])] = String(words[1])
        }
        func number(_ key: String) -> Int? {
            values[key].flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
        }
        func octalNumber(_ key: String) -> UInt32? {
            values[key].flatMap { UInt32($0, radix: 8) }.flatMap { $0 <= 0o7777 ? $0 : nil }
        }
        uidMin = number("UID_MIN") ?? uidMin
        uidMax = number("UID_MAX") ?? uidMax
        gidMin = number("GID_MIN") ?? gidMin
        gidMax = number("GID_MAX") ?? gidMax
        for (prefix, limits) in [("SUB_UID_", \LoginDefinitions.subUID), ("SUB_GID_", \LoginDefinitions.subGID)] {
            self[keyPath: limits].minimum = number(prefix + "MIN") ?? self[keyPath: limits].minimum
            self[keyPath: limits].maximum = number(prefix + "MAX") ?? self[keyPath: limits].maximum
            self[keyPath: limits].count = number(prefix + "COUNT") ?? self[keyPath: limits].count
        }
        if let mode = octalNumber("HOME_MODE") {
            homeMode = mode
        } else if let umask = octalNumber("UMASK") {
            homeMode = 0o777 & ~umask
        }
    }

    /// The first number in `minimum ... maximum` not in `used`.
    static func firstFree(_ used: Set<Int>, minimum: Int, maximum: Int) -> Int? {
        guard minimum <= maximum else { return nil }
        return (minimum ... maximum).first { !used.contains($0) }
    }
}


/// One line of `/etc/subuid` or `/etc/subgid`: `name:start:count`.
struct SubordinateRange: Equatable {
    var name: String
    var start: Int
    var count: Int

    /// `useradd`'s defaults (login.defs can change them).
    struct Limits: Equatable {
        var minimum = 100_000
        var maximum = 600_100_000
        var count = 65_536
    }

    /// The ranges of a subuid/subgid file; other lines are skipped.
    static func ranges(_ text: String) -> [SubordinateRange] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, let start = Int(fields[1]), let count = Int(fields[2]), start >= 0, count > 0 else {
                return nil
            }
            return SubordinateRange(name: String(fields[0]), start: start, count: count)
        }
    }

    /// The lowest start in `limits.minimum ... limits.maximum` where `limits.count` ids overlap no range of
    /// `used`, as useradd picks it; `nil` when none fits (or `count` is 0: no subordinate ids wanted).
    static func firstFree(after used: [SubordinateRange], limits: Limits) -> Int? {
        guard limits.count > 0 else { return nil }
        var start = limits.minimum
        for range in used.sorted(by: { $0.start < $1.start }) {
            if range.start + range.count <= start { continue }
            if range.start >= start + limits.count { break }
            start = range.start + range.count
        }
        return start + limits.count - 1 <= limits.maximum ? start : nil
    }
}
