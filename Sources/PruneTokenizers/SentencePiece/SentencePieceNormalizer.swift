/// SentencePiece's `Normalizer::Normalize` for one text: the precompiled rules (longest prefix
/// first; user-defined pieces are left alone), `remove_extra_whitespaces` (leading, trailing and
/// repeated spaces), `add_dummy_prefix` and `escape_whitespaces` (' ' → U+2581).
struct SentencePieceNormalizer: Sendable {
    var charsMap: PrecompiledCharsMap?
    var addDummyPrefix = true
    var removeExtraWhitespaces = true
    var escapeWhitespaces = true
    var treatWhitespaceAsSuffix = false
    var userDefined: ByteTrie?

    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]

    /// The normalized prefix of `bytes[i..<end]`: the replacement bytes and how many input bytes it consumes.
    @inline(__always)
    private func normalizePrefix(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> (ArraySlice<UInt8>, Int) {
        if let ud = userDefined, let m = ud.longestMatch(b, from: i, end: end) {
            return (ArraySlice(b[i..<(i + m.length)]), m.length)
        }
        if let map = charsMap, let r = map.longestRule(b, from: i, end: end) {
            return (r.replacement, r.length)
        }
        let (v, len) = UTF8Scalar.decode(b, at: i, end: end)
        if len == 1 && v == 0xFFFD { return ([0xEF, 0xBF, 0xBD], 1) }   // malformed byte
        return (ArraySlice(b[i..<(i + len)]), len)
    }

    func normalize(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBufferPointer { b in
            var out: [UInt8] = []
            out.reserveCapacity(input.count + input.count / 2 + 3)
            var i = 0
            let end = b.count
            if removeExtraWhitespaces {
                while i < end {
                    let (piece, used) = normalizePrefix(b, i, end)
                    if !(piece.count == 1 && piece.first == 0x20) { break }
                    i += used
                }
            }
            if i >= end { return [] }
            let space: [UInt8] = escapeWhitespaces ? Self.spaceSymbol : [0x20]
            if !treatWhitespaceAsSuffix && addDummyPrefix { out += space }
            var previousSpace = removeExtraWhitespaces
            while i < end {
                let (piece, used) = normalizePrefix(b, i, end)
                var p = piece[...]
                if previousSpace { while p.first == 0x20 { p = p.dropFirst() } }
                if !p.isEmpty {
                    for c in p {
                        if escapeWhitespaces && c == 0x20 { out += Self.spaceSymbol } else { out.append(c) }
                    }
                    previousSpace = p.last == 0x20
                }
                i += used
                if !removeExtraWhitespaces { previousSpace = false }
            }
            if removeExtraWhitespaces {
                while out.count >= space.count && Array(out.suffix(space.count)) == space { out.removeLast(space.count) }
            }
            if treatWhitespaceAsSuffix && addDummyPrefix { out += space }
            return out
        }
    }
}
