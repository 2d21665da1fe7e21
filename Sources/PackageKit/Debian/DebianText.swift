extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks: deb822 and ar headers pad with them.
    var trimmedBlanks: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first ... last])
    }
}

extension String {
    /// The text's lines split at "\n", each without a trailing "\r". (Splitting the characters would not
    /// work: Swift sees "\r\n" as one character.)
    var lineList: [Substring] {
        split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.last == "\r" ? $0.dropLast() : $0 }
    }
}
