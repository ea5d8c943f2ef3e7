/// Finds added tokens in a text as Hugging Face `tokenizers` does (`AddedVocabulary::find_matches`):
/// leftmost-longest matches, `single_word` matches only between non-word characters, `lstrip` /
/// `rstrip` swallow the whitespace beside a match.
struct AddedTokenMatcher: Sendable {
    private let trie: ByteTrie
    private let tokens: [AddedToken]
    let isEmpty: Bool

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        trie = ByteTrie(tokens.enumerated().map { ($0.element.content, Int32($0.offset)) })
        isEmpty = tokens.isEmpty
    }

    /// The segments of `bytes[range]` (byte ranges stay in `bytes`' coordinates).
    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [TextSegment] {
        guard !isEmpty, !range.isEmpty else { return range.isEmpty ? [] : [.text(range)] }
        var out: [TextSegment] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            guard let m = trie.longestMatch(bytes, from: i, end: end) else { i += 1; continue }
            let t = tokens[Int(m.value)]
            var start = i
            var stop = i + m.length
            if t.singleWord {
                let before = start == range.lowerBound || !Self.isWord(before: start, bytes, range.lowerBound)
                let after = stop == end || !Self.isWord(at: stop, bytes, end)
                if !(before && after) { i += 1; continue }
            }
            if t.lstrip {
                var s = start
                while s > textStart, let (v, len) = Self.scalar(endingAt: s, bytes, textStart), UnicodeClassTable.classes(v).contains(.whitespace) { s -= len }
                start = s
            }
            if t.rstrip {
                while stop < end {
                    let (v, len) = UTF8Scalar.decode(bytes, at: stop, end: end)
                    guard UnicodeClassTable.classes(v).contains(.whitespace) else { break }
                    stop += len
                }
            }
            if textStart < start { out.append(.text(textStart..<start)) }
            out.append(.token(t.id))
            textStart = stop
            i = stop
        }
        if textStart < end { out.append(.text(textStart..<end)) }
        return out
    }

    private static func scalar(endingAt e: Int, _ b: UnsafeBufferPointer<UInt8>, _ lower: Int) -> (UInt32, Int)? {
        guard e > lower else { return nil }
        var s = e - 1
        while s > lower && b[s] & 0xC0 == 0x80 && e - s < 4 { s -= 1 }
        let (v, len) = UTF8Scalar.decode(b, at: s, end: e)
        return s + len == e ? (v, len) : (0xFFFD, 1)
    }

    /// Rust regex `\w`: alphabetic, marks, decimal digits, connector punctuation.
    private static func isWordScalar(_ v: UInt32) -> Bool {
        let c = UnicodeClassTable.classes(v)
        return c.contains(.alphanumeric) || c.contains(.mark) || v == 0x5F
    }

    private static func isWord(before e: Int, _ b: UnsafeBufferPointer<UInt8>, _ lower: Int) -> Bool {
        guard let (v, _) = scalar(endingAt: e, b, lower) else { return false }
        return isWordScalar(v)
    }

    private static func isWord(at s: Int, _ b: UnsafeBufferPointer<UInt8>, _ end: Int) -> Bool {
        isWordScalar(UTF8Scalar.decode(b, at: s, end: end).0)
    }
}
