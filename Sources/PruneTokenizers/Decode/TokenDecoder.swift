/// How ids become text again, in the manner of the tokenizer's own library.
enum TokenDecoder: Sendable {
    /// Hugging Face: the token strings through the file's decoder chain (nil: joined by spaces).
    case huggingFace(HFDecoderStep?)
    /// The `sentencepiece` library: U+2581 → space, byte pieces → bytes, the first piece's
    /// leading U+2581 dropped when `stripLeadingSpace` (add_dummy_prefix or remove_extra_whitespaces).
    case sentencePiece(stripLeadingSpace: Bool)
    /// llama.cpp's `llama_detokenize` (no space clean-up): SPM pieces unescape U+2581 and byte
    /// tokens give their byte; BPE pieces are byte-level characters; control and user-defined
    /// tokens give their text. With `stripLeadingSpace` (add_space_prefix) the first piece loses one space.
    case llamaCpp(spm: Bool, stripLeadingSpace: Bool)

    func decode(_ ids: [Int32], _ vocab: Vocabulary, skipSpecial: Bool) -> String {
        let ids = ids.filter { $0 >= 0 && Int($0) < vocab.count && !(skipSpecial && vocab.isSpecial($0)) }
        switch self {
        case .huggingFace(let step):
            let tokens = ids.map { vocab.pieces[Int($0)] }
            guard let step else { return tokens.joined(separator: " ") }
            return step.decodeChain(tokens).joined()
        case .sentencePiece(let strip):
            var out: [UInt8] = []
            var pendingBytes: [UInt8] = []
            var atStart = true   // no piece with text decoded yet (control pieces do not count)
            func flush() {
                guard !pendingBytes.isEmpty else { return }
                out += Self.lossyUTF8(pendingBytes)
                pendingBytes.removeAll()
            }
            for id in ids {
                let kind = vocab.kinds[Int(id)]
                let piece = vocab.pieces[Int(id)]
                if kind == .byte, let b = Self.bytePieceValue(piece) { pendingBytes.append(b); atStart = false; continue }
                flush()
                switch kind {
                case .control: out += Array(piece.utf8)   // rendered unless skipped (sentencepiece hides them)
                case .unknown: out += Array(" \u{2047} ".utf8); atStart = false
                default:
                    var p = Array(piece.utf8)
                    if strip && atStart && p.starts(with: SentencePieceNormalizer.spaceSymbol) { p.removeFirst(3) }
                    atStart = false
                    out += Self.unescape(p)
                }
            }
            flush()
            return String(decoding: out, as: UTF8.self)
        case .llamaCpp(let spm, let strip):
            var out: [UInt8] = []
            var first = true
            for id in ids {
                let kind = vocab.kinds[Int(id)]
                let piece = vocab.pieces[Int(id)]
                var bytes: [UInt8]
                switch kind {
                case .control, .userDefined, .unknown: bytes = Array(piece.utf8)
                case .byte where spm: bytes = Self.bytePieceValue(piece).map { [$0] } ?? []
                case .normal:
                    bytes = spm ? Self.unescape(Array(piece.utf8)) : (ByteLevelAlphabet.bytes(ofPiece: piece) ?? Array(piece.utf8))
                default: bytes = []
                }
                if first && strip && bytes.first == 0x20 { bytes.removeFirst() }
                first = false
                out += bytes
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static func unescape(_ p: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(p.count)
        var i = 0
        while i < p.count {
            if i + 2 < p.count && p[i] == 0xE2 && p[i + 1] == 0x96 && p[i + 2] == 0x81 { out.append(0x20); i += 3 } else { out.append(p[i]); i += 1 }
        }
        return out
    }

    /// The byte of a `<0xXX>` piece.
    static func bytePieceValue(_ piece: String) -> UInt8? {
        let u = Array(piece.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }

    /// Bytes as UTF-8, each byte of an invalid sequence becoming U+FFFD.
    static func lossyUTF8(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        b.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let (v, len) = UTF8Scalar.decode(p, at: i, end: p.count)
                if len == 1 && v == 0xFFFD { out += [0xEF, 0xBF, 0xBD] } else { out += p[i..<(i + len)] }
                i += len
            }
        }
        return out
    }
}
