import BerthConfig
/// "Did you mean" for misspelled keys and names: most config mistakes are a typo away from
/// something valid, and naming it saves a trip to the documentation.
enum Suggestion {
    /// The candidate closest to `word`: an edit distance of at most 2 (1 for words of three
    /// letters or fewer, where 2 edits can turn anything into anything), or a prefix match
    /// either way (`stat` → `static`, `cache_controls` → `cache_control`). Case is ignored.
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lowered = word.lowercased()
        let limit = lowered.count <= 3 ? 1 : 2
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let other = candidate.lowercased()
            var distance = editDistance(lowered, other)
            let isPrefix = lowered.count >= 3 && (other.hasPrefix(lowered) || lowered.hasPrefix(other))
            if distance > limit {
                guard isPrefix else { continue }
                // Ranked after any real near-miss, but still offered.
                distance = limit + 1
            }
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// "; did you mean 'x'?" or "; allowed keys: a, b, c" for the end of a message.
    static func hint(for word: String, in candidates: [String], listing noun: String) -> String {
        if let match = closest(to: word, in: candidates) { return "; did you mean '\(match)'?" }
        if candidates.isEmpty { return "" }
        return "; \(noun): \(candidates.joined(separator: ", "))"
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
