/// A text fragment being pre-tokenized: its bytes and the byte ranges of its current pieces.
/// `byteLevel` is set once a ByteLevel step has run: the pieces then stand for GPT-2 byte-level
/// characters (one per byte), which later steps and the model see instead of the raw text.
struct PreTokenizedText {
    var bytes: [UInt8]
    var pieces: [Range<Int>]
    var byteLevel = false
    /// The fragment starts at the start of the whole input (Metaspace's `prepend_scheme: first`).
    var startsInput: Bool

    init(bytes: [UInt8], startsInput: Bool) {
        self.bytes = bytes
        pieces = bytes.isEmpty ? [] : [0..<bytes.count]
        self.startsInput = startsInput
    }

    /// The scalars a splitter sees for `piece`: the text, or its byte-level characters.
    func scalarText(_ piece: Range<Int>) -> ScalarText {
        if byteLevel {
            let mapped = ByteLevelAlphabet.encode(bytes[piece])
            return mapped.withUnsafeBufferPointer { ScalarText($0, 0..<mapped.count) }
        }
        return bytes.withUnsafeBufferPointer { ScalarText($0, piece) }
    }

    /// Splits every piece with `splitter` and `behavior`.
    mutating func split(_ splitter: any TextSplitter, _ behavior: SplitDelimiterBehavior, invert: Bool) {
        var out: [Range<Int>] = []
        out.reserveCapacity(pieces.count * 4)
        for piece in pieces {
            let text = scalarText(piece)
            let parts = behavior.pieces(count: text.count, matches: splitter.matches(in: text), invert: invert)
            for p in parts {
                // Byte-level characters are one per byte; otherwise map scalar indices to bytes.
                let r = byteLevel ? p : text.byteRange(p)
                out.append((piece.lowerBound + r.lowerBound)..<(piece.lowerBound + r.upperBound))
            }
        }
        pieces = out
    }

    /// Rewrites every piece with `transform` (which returns the new bytes of one piece and how it
    /// splits), rebuilding the byte buffer.
    mutating func rewrite(_ transform: (ArraySlice<UInt8>, _ index: Int) -> [[UInt8]]) {
        var newBytes: [UInt8] = []
        newBytes.reserveCapacity(bytes.count + pieces.count * 3)
        var newPieces: [Range<Int>] = []
        for (k, piece) in pieces.enumerated() {
            for part in transform(bytes[piece], k) where !part.isEmpty {
                let s = newBytes.count
                newBytes += part
                newPieces.append(s..<newBytes.count)
            }
        }
        bytes = newBytes
        pieces = newPieces
    }
}
