/// The known key closest to a mistyped one, when it is close enough to be a likely typo.
func closestKey(to key: String, among known: [String]) -> String? {
    let typed = Array(key.lowercased())
    var best: (key: String, distance: Int)?
    for candidate in known {
        let distance = editDistance(typed, Array(candidate))
        if distance <= max(1, min(3, candidate.count / 4)), distance < (best?.distance ?? .max) {
            best = (candidate, distance)
        }
    }
    return best?.key
}

private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0 ... b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1 ... a.count {
        current[0] = i
        for j in 1 ... b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
