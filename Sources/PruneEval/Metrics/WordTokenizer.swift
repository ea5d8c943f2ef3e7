/// Splits text into words and punctuation for the n-gram entropy, after the Penn Treebank
/// conventions NLTK's `word_tokenize` follows: runs of letters and digits are words; every other
/// visible character is a token of its own, except runs of one character (`...`, `--`, `!!`); the
/// contractions `n't`, `'s`, `'re`, `'ve`, `'ll`, `'d` and `'m` are split from their word.
/// (NLTK also runs a sentence splitter and rewrites quotes; those do not change n-gram counts much
/// and are not reproduced.)
package enum WordTokenizer {
    package static func tokenize(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var out: [String] = []
        var i = 0
        func isWord(_ c: Unicode.Scalar) -> Bool {
            let p = c.properties
            return p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark
                || p.generalCategory == .spacingMark
        }
        func isApostrophe(_ c: Unicode.Scalar) -> Bool { c == "'" || c == "\u{2019}" }
        func string(_ r: Range<Int>) -> String {
            var v = String.UnicodeScalarView()
            v.append(contentsOf: s[r])
            return String(v)
        }
        /// The length of a contraction suffix starting at an apostrophe at `j`, or 0.
        func suffixLength(at j: Int) -> Int {
            guard j < s.count, isApostrophe(s[j]) else { return 0 }
            var k = j + 1
            while k < s.count, isWord(s[k]) { k += 1 }
            let tail = string((j + 1)..<k).lowercased()
            return ["s", "re", "ve", "ll", "d", "m"].contains(tail) ? k - j : 0
        }
        while i < s.count {
            let c = s[i]
            if c.properties.isWhitespace { i += 1; continue }
            if isWord(c) {
                var j = i
                while j < s.count, isWord(s[j]) { j += 1 }
                // n't: "don't" -> "do", "n't".
                if j + 1 < s.count, isApostrophe(s[j]), s[j + 1] == "t" || s[j + 1] == "T",
                   j + 2 >= s.count || !isWord(s[j + 2]), j - i >= 2, s[j - 1] == "n" || s[j - 1] == "N" {
                    out.append(string(i..<(j - 1)))
                    out.append(string((j - 1)..<(j + 2)))
                    i = j + 2
                    continue
                }
                out.append(string(i..<j))
                let n = suffixLength(at: j)
                if n > 0 {
                    out.append(string(j..<(j + n)))
                    j += n
                }
                i = j
                continue
            }
            var j = i + 1
            while j < s.count, s[j] == c { j += 1 }
            out.append(string(i..<j))
            i = j
        }
        return out
    }
}
