/// GPT-2's pattern, hand-coded:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// (also llama.cpp's `gpt-2` pattern, which lacks the final `|\s+`: the lone whitespace it would
/// match is then an unmatched gap, which becomes a piece of its own all the same).
/// With `caseInsensitiveContractions`, the contractions are `(?i:…)` (ASCII letters).
struct GPT2Splitter: TextSplitter {
    var caseInsensitiveContractions = false

    func matches(in text: ScalarText) -> [Range<Int>] {
        let n = text.count
        var out: [Range<Int>] = []
        out.reserveCapacity(n / 3 + 1)
        text.scalars.withUnsafeBufferPointer { s in
            text.classes.withUnsafeBufferPointer { c in
                var i = 0
                while i < n {
                    let end = Self.matchEnd(s, c, i, n, caseInsensitiveContractions)
                    out.append(i..<end)
                    i = end
                }
            }
        }
        return out
    }

    @inline(__always)
    static func matchEnd(_ s: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UnicodeClass>, _ i: Int, _ n: Int, _ fold: Bool) -> Int {
        let ch = s[i]
        if ch == 0x27, let e = Contractions.match(s, i, n, fold) { return e }
        var j = i
        var cls = c[i]
        if ch == 0x20 && i + 1 < n {
            let next = c[i + 1]
            if !next.contains(.whitespace) { j = i + 1; cls = next }
        }
        if cls.contains(.letter) {
            j += 1
            while j < n && c[j].contains(.letter) { j += 1 }
            return j
        }
        if cls.contains(.number) {
            j += 1
            while j < n && c[j].contains(.number) { j += 1 }
            return j
        }
        if cls.isOtherThanSpaceLetterNumber {
            j += 1
            while j < n && c[j].isOtherThanSpaceLetterNumber { j += 1 }
            return j
        }
        // Whitespace: \s+(?!\S) leaves the last one for the next piece when a non-space follows.
        var k = i + 1
        while k < n && c[k].contains(.whitespace) { k += 1 }
        if k < n && k - i > 1 { return k - 1 }
        return k
    }
}
