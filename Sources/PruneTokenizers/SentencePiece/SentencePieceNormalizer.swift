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

    /// What the text at a position normalizes to.
    private enum Prefix {
        /// The input bytes themselves (no rule matched, or a user-defined piece).
        case input(Range<Int>)
        case replacement(ArraySlice<UInt8>)
        case replacementCharacter
    }

    /// The normalized prefix of `bytes[i..<end]` and how many input bytes it consumes.
    @inline(__always)
    private func normalizePrefix(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> (Prefix, Int) {
        if let ud = userDefined, let m = ud.longestMatch(b, from: i, end: end) {
            return (.input(i..<(i + m.length)), m.length)
        }
        if let map = charsMap, let r = map.longestRule(b, from: i, end: end) {
            return (.replacement(r.replacement), r.length)
        }
        let (v, len) = UTF8Scalar.decode(b, at: i, end: end)
        if len == 1 && v == 0xFFFD { return (.replacementCharacter, 1) }   // malformed byte
        return (.input(i..<(i + len)), len)
    }

    /// Calls `body` with the bytes of a prefix.
    @inline(__always)
    private func withBytes<R>(_ p: Prefix, _ b: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch p {
        case .input(let r): return body(UnsafeBufferPointer(rebasing: b[r]))
        case .replacement(let s): return s.withUnsafeBufferPointer(body)
        case .replacementCharacter:
            let fffd: [UInt8] = [0xEF, 0xBF, 0xBD]
            return fffd.withUnsafeBufferPointer(body)
        }
    }

    func normalize(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBufferPointer { normalize($0, 0..<$0.count) }
    }

    /// The normalized text of `b[range]`.
    func normalize(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count + range.count / 2 + 3)
        var i = range.lowerBound
        let end = range.upperBound
        if removeExtraWhitespaces {
            while i < end {
                let (p, used) = normalizePrefix(b, i, end)
                let isSpace = withBytes(p, b) { $0.count == 1 && $0[0] == 0x20 }
                if !isSpace { break }
                i += used
            }
        }
        if i >= end { return [] }
        if !treatWhitespaceAsSuffix && addDummyPrefix { appendSpace(&out) }
        var previousSpace = removeExtraWhitespaces
        while i < end {
            let (p, used) = normalizePrefix(b, i, end)
            withBytes(p, b) { piece in
                var k = 0
                if previousSpace { while k < piece.count && piece[k] == 0x20 { k += 1 } }
                if k < piece.count {
                    while k < piece.count {
                        let c = piece[k]
                        if escapeWhitespaces && c == 0x20 { out += Self.spaceSymbol } else { out.append(c) }
                        k += 1
                    }
                    previousSpace = piece[piece.count - 1] == 0x20
                }
            }
            i += used
            if !removeExtraWhitespaces { previousSpace = false }
        }
        if removeExtraWhitespaces {
            let space: [UInt8] = escapeWhitespaces ? Self.spaceSymbol : [0x20]
            while out.count >= space.count && out[(out.count - space.count)...].elementsEqual(space) { out.removeLast(space.count) }
        }
        if treatWhitespaceAsSuffix && addDummyPrefix { appendSpace(&out) }
        return out
    }

    @inline(__always)
    private func appendSpace(_ out: inout [UInt8]) {
        if escapeWhitespaces { out += Self.spaceSymbol } else { out.append(0x20) }
    }
}
