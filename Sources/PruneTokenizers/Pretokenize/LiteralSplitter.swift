/// A `Split` pattern given as a plain string: its non-overlapping occurrences, leftmost first.
struct LiteralSplitter: TextSplitter {
    let needle: [UInt32]

    init(_ s: String) { needle = s.unicodeScalars.map(\.value) }

    func matches(in text: ScalarText) -> [Range<Int>] {
        let m = needle.count
        guard m > 0, text.count >= m else { return [] }
        var out: [Range<Int>] = []
        var i = 0
        while i + m <= text.count {
            if text.scalars[i] == needle[0] && Array(text.scalars[i..<i + m]) == needle {
                out.append(i..<i + m)
                i += m
            } else {
                i += 1
            }
        }
        return out
    }
}
