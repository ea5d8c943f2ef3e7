/// Runs of scalars that satisfy one class test, each match at most `maxRun` long (nil: unbounded):
/// `\p{N}` (run 1), `\p{N}+`, `[0-9][0-9][0-9]` (exactly 3: `exactRun`), llama.cpp's
/// `[\p{P}\$\+<=>\^~\|]+`, and the `Digits` pre-tokenizer.
struct ClassRunSplitter: TextSplitter {
    enum Test: Sendable {
        case number
        case asciiDigit
        /// `\p{P}` or one of the listed ASCII scalars.
        case punctuationOr([UInt32])
    }
    var test: Test
    var maxRun: Int?
    /// Only runs of exactly `maxRun` match (a fixed repetition such as `[0-9][0-9][0-9]`).
    var exactRun = false

    @inline(__always)
    private func accepts(_ v: UInt32, _ c: UnicodeClass) -> Bool {
        switch test {
        case .number: return c.contains(.number)
        case .asciiDigit: return v >= 0x30 && v <= 0x39
        case .punctuationOr(let extra): return c.contains(.punctuation) || extra.contains(v)
        }
    }

    func matches(in text: ScalarText) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let n = text.count
        var i = 0
        while i < n {
            guard accepts(text.scalars[i], text.classes[i]) else { i += 1; continue }
            var j = i + 1
            while j < n && (maxRun.map { j - i < $0 } ?? true) && accepts(text.scalars[j], text.classes[j]) { j += 1 }
            if exactRun, let m = maxRun, j - i < m { i = j; continue }
            out.append(i..<j)
            i = j
        }
        return out
    }
}
