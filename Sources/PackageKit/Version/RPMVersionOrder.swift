/// rpm's `rpmvercmp` (rpm 4.18 `rpmio/rpmvercmp.c`): the strings split into runs of digits and runs of letters,
/// everything else is a separator; numeric runs compare as numbers and beat letter runs; `~` sorts before
/// everything, `^` after the end of the string but before anything else.
enum RPMVersionOrder {
    /// Negative, zero or positive as `a` sorts before, with, or after `b`.
    static func compare(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        let one = Array(a.utf8), two = Array(b.utf8)
        var i = 0, j = 0
        let tilde = UInt8(ascii: "~"), caret = UInt8(ascii: "^")
        func at(_ bytes: [UInt8], _ index: Int) -> UInt8 { index < bytes.count ? bytes[index] : 0 }

        while i < one.count || j < two.count {
            while i < one.count, !isAlphanumeric(one[i]), one[i] != tilde, one[i] != caret { i += 1 }
            while j < two.count, !isAlphanumeric(two[j]), two[j] != tilde, two[j] != caret { j += 1 }

            let x = at(one, i), y = at(two, j)
            if x == tilde || y == tilde {
                if x != tilde { return 1 }
                if y != tilde { return -1 }
                i += 1
                j += 1
                continue
            }
            if x == caret || y == caret {
                if i >= one.count { return -1 }
                if j >= two.count { return 1 }
                if x != caret { return 1 }
                if y != caret { return -1 }
                i += 1
                j += 1
                continue
            }
            guard i < one.count, j < two.count else { break }

            var end1 = i, end2 = j
            let numeric = isDigit(one[i])
            while end1 < one.count, numeric ? isDigit(one[end1]) : isLetter(one[end1]) { end1 += 1 }
            while end2 < two.count, numeric ? isDigit(two[end2]) : isLetter(two[end2]) { end2 += 1 }
            // The other side has a run of the other kind here: numbers are newer than letters.
            if end2 == j { return numeric ? 1 : -1 }

            var start1 = i, start2 = j
            if numeric {
                while start1 < end1, one[start1] == UInt8(ascii: "0") { start1 += 1 }
                while start2 < end2, two[start2] == UInt8(ascii: "0") { start2 += 1 }
                let length1 = end1 - start1, length2 = end2 - start2
                if length1 != length2 { return length1 < length2 ? -1 : 1 }
            }
            let order = lexicographic(one[start1 ..< end1], two[start2 ..< end2])
            if order != 0 { return order }
            i = end1
            j = end2
        }
        if i >= one.count, j >= two.count { return 0 }
        return i >= one.count ? -1 : 1
    }

    private static func lexicographic(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30 ... 0x39).contains(byte) }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (0x41 ... 0x5A).contains(byte) || (0x61 ... 0x7A).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool { isDigit(byte) || isLetter(byte) }
}
