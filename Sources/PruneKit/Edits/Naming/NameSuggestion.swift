import PruneFormats
/// The name of `candidates` closest to `name` by edit distance, if reasonably close (for "did you mean").
func closestName(to name: String, in candidates: [String]) -> String? {
    let a = Array(name.utf8)
    var best: (distance: Int, name: String)?
    for candidate in candidates.sorted() {
        let b = Array(candidate.utf8)
        guard abs(a.count - b.count) <= max(3, a.count / 3) else { continue }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            cur[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        let d = prev[b.count]
        if d <= max(2, a.count / 3), best == nil || d < best!.distance { best = (d, candidate) }
    }
    return best?.name
}
