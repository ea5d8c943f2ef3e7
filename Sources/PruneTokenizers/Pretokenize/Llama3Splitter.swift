/// The Llama-3 pattern family, hand-coded:
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// `maxDigits` 3 is Llama-3's `\p{N}{1,3}`; 1 is Qwen2's `\p{N}`.
struct Llama3Splitter: TextSplitter {
    var maxDigits = 3
    var caseInsensitiveContractions = true

    func matches(in text: ScalarText) -> [Range<Int>] {
        let n = text.count
        var out: [Range<Int>] = []
        out.reserveCapacity(n / 3 + 1)
        text.scalars.withUnsafeBufferPointer { s in
            text.classes.withUnsafeBufferPointer { c in
                var i = 0
                while i < n {
                    let end = matchEnd(s, c, i, n)
                    out.append(i..<end)
                    i = end
                }
            }
        }
        return out
    }

    @inline(__always)
    private func matchEnd(_ s: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UnicodeClass>, _ i: Int, _ n: Int) -> Int {
        let ch = s[i]
        let cls = c[i]
        if ch == 0x27, let e = Contractions.match(s, i, n, caseInsensitiveContractions) { return e }
        let isCRLF = ch == 0x0D || ch == 0x0A
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if cls.contains(.letter) || (!isCRLF && !cls.contains(.number) && i + 1 < n && c[i + 1].contains(.letter)) {
            var j = i + 1
            while j < n && c[j].contains(.letter) { j += 1 }
            return j
        }
        // \p{N}{1,maxDigits}
        if cls.contains(.number) {
            var j = i + 1
            while j < n && j - i < maxDigits && c[j].contains(.number) { j += 1 }
            return j
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        var j = i
        if ch == 0x20 && i + 1 < n && c[i + 1].isOtherThanSpaceLetterNumber { j = i + 1 }
        if c[j].isOtherThanSpaceLetterNumber {
            j += 1
            while j < n && c[j].isOtherThanSpaceLetterNumber { j += 1 }
            while j < n && (s[j] == 0x0D || s[j] == 0x0A) { j += 1 }
            return j
        }
        // Whitespace run [i, k): \s*[\r\n]+ ends after its last CR/LF; else \s+(?!\S) | \s+.
        var k = i
        var lastCRLF = -1
        while k < n && c[k].contains(.whitespace) {
            if s[k] == 0x0D || s[k] == 0x0A { lastCRLF = k }
            k += 1
        }
        if lastCRLF >= 0 { return lastCRLF + 1 }
        if k < n && k - i > 1 { return k - 1 }
        return Swift.max(k, i + 1)
    }
}
