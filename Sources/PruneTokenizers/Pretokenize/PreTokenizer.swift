/// A Hugging Face pre-tokenizer (and llama.cpp's list of split patterns expressed as one).
indirect enum PreTokenizer: Sendable {
    /// `ByteLevel`: optionally a space before each piece that does not start with one, optionally
    /// GPT-2's split, then the byte-level characters.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(any TextSplitter, SplitDelimiterBehavior, invert: Bool)
    /// `Metaspace`: spaces become `replacement`, which is also prepended per `prependScheme`, then
    /// optionally split before each replacement. `prependAlways` (the SentencePiece behaviour, used
    /// for SentencePiece-style tokenizer.json files) prepends even to a piece that already starts
    /// with the replacement, where `tokenizers` does not.
    case metaspace(replacement: [UInt8], prependScheme: PrependScheme, split: Bool, prependAlways: Bool)
    case sequence([PreTokenizer])

    func apply(_ t: inout PreTokenizedText) {
        switch self {
        case .byteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace && !t.byteLevel {
                t.rewrite { piece, _ in piece.first == 0x20 ? [Array(piece)] : [[0x20] + piece] }
            }
            if useRegex { t.split(GPT2Splitter(), .isolated, invert: false) }
            t.byteLevel = true
        case .split(let splitter, let behavior, let invert):
            t.split(splitter, behavior, invert: invert)
        case .metaspace(let rep, let scheme, let split, let always):
            let startsInput = t.startsInput
            t.rewrite { piece, index in
                var out: [UInt8] = []
                out.reserveCapacity(piece.count + 3)
                for b in piece { if b == 0x20 { out += rep } else { out.append(b) } }
                let startsWithRep = out.starts(with: rep)
                switch scheme {
                case .always: if always || !startsWithRep { out = rep + out }
                case .first: if (always || !startsWithRep) && startsInput && index == 0 { out = rep + out }
                case .never: break
                }
                guard split else { return [out] }
                // Split before each replacement (MergedWithNext).
                var parts: [[UInt8]] = []
                var cur: [UInt8] = []
                var i = 0
                while i < out.count {
                    if i + rep.count <= out.count && Array(out[i..<(i + rep.count)]) == rep {
                        if !cur.isEmpty { parts.append(cur) }
                        cur = rep
                        i += rep.count
                    } else {
                        cur.append(out[i])
                        i += 1
                    }
                }
                if !cur.isEmpty { parts.append(cur) }
                return parts
            }
        case .sequence(let steps):
            for s in steps { s.apply(&t) }
        }
    }
}
