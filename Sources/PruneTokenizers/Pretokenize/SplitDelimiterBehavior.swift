/// What a `Split` step does with each match (Hugging Face `SplitDelimiterBehavior`).
enum SplitDelimiterBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// The pieces of a text of `count` scalars whose matches are `matches`, as tokenizers'
    /// `NormalizedString::split` makes them (empty pieces dropped). `invert` swaps matches and gaps.
    func pieces(count: Int, matches: [Range<Int>], invert: Bool) -> [Range<Int>] {
        // (range, isMatch) covering the text, as `Pattern::find_matches` gives them.
        var parts: [(Range<Int>, Bool)] = []
        parts.reserveCapacity(matches.count * 2 + 1)
        if count == 0 {
            parts.append((0..<0, false))
        } else {
            var prev = 0
            for m in matches {
                if m.lowerBound > prev { parts.append((prev..<m.lowerBound, false)) }
                parts.append((m, true))
                prev = m.upperBound
            }
            if prev < count { parts.append((prev..<count, false)) }
        }
        if invert { parts = parts.map { ($0.0, !$0.1) } }

        var out: [Range<Int>] = []
        switch self {
        case .isolated:
            out = parts.map(\.0)
        case .removed:
            out = parts.filter { !$0.1 }.map(\.0)
        case .contiguous:
            var previous = false
            for (r, isMatch) in parts {
                if isMatch == previous, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previous = isMatch
            }
        case .mergedWithPrevious:
            var previous = false
            for (r, isMatch) in parts {
                if isMatch && !previous, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previous = isMatch
            }
        case .mergedWithNext:
            var previous = false
            for (r, isMatch) in parts.reversed() {
                if isMatch && !previous, let last = out.last {
                    out[out.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    out.append(r)
                }
                previous = isMatch
            }
            out.reverse()
        }
        return out.filter { !$0.isEmpty }
    }
}
