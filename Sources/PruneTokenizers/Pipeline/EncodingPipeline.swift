/// The encoding steps of one tokenizer: special tokens out of the raw text, then each plain
/// fragment through the model's own normalization, pre-tokenization and merges.
struct EncodingPipeline: Sendable {
    enum Specials: Sendable {
        case none
        /// Hugging Face / SentencePiece folders: leftmost-longest matching of added tokens.
        case addedTokens(AddedTokenMatcher)
        /// GGUF: llama.cpp's longest-token-first partition.
        case llamaCpp(LlamaCppTokenPartition)
    }

    enum Model: Sendable {
        /// Merge-list BPE after an optional normalizer, the added tokens that match normalized
        /// text, and the pre-tokenizer.
        case bpe(BPEModel, normalizer: Normalizer?, normalizedTokens: AddedTokenMatcher?, preTokenizer: PreTokenizer?)
        /// SentencePiece BPE after SentencePiece normalization (also llama.cpp's SPM, whose
        /// normalization is a space prefix and escaped spaces).
        case sentencePiece(SentencePieceBPE, SentencePieceNormalizer)
    }

    let specials: Specials
    let model: Model
    /// Ids put around the text when special tokens are added (BOS / template prefix, EOS / suffix).
    let prefix: [Int32]
    let suffix: [Int32]

    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var out: [Int32] = []
        let bytes = Array(text.utf8)
        out.reserveCapacity(bytes.count / 3 + 4)
        if addSpecialTokens { out += prefix }
        var chain = SymbolChain()
        bytes.withUnsafeBufferPointer { b in
            let all = 0..<b.count
            let segments: [TextSegment]
            switch specials {
            case .none: segments = all.isEmpty ? [] : [.text(all)]
            case .addedTokens(let m): segments = m.split(b, all)
            case .llamaCpp(let p): segments = p.split(b, all)
            }
            for s in segments {
                switch s {
                case .token(let id): out.append(id)
                case .text(let r): encodeFragment(b, r, &chain, &out)
                }
            }
        }
        if addSpecialTokens { out += suffix }
        return out
    }

    private func encodeFragment(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ chain: inout SymbolChain, _ out: inout [Int32]) {
        switch model {
        case .bpe(let bpe, let normalizer, let normalizedTokens, let pre):
            var fragment = Array(b[r])
            if let n = normalizer { fragment = n.apply(fragment) }
            let parts: [TextSegment]
            if let m = normalizedTokens {
                parts = fragment.withUnsafeBufferPointer { m.split($0, 0..<fragment.count) }
            } else {
                parts = fragment.isEmpty ? [] : [.text(0..<fragment.count)]
            }
            for part in parts {
                switch part {
                case .token(let id): out.append(id)
                case .text(let pr):
                    var t = PreTokenizedText(bytes: pr.count == fragment.count ? fragment : Array(fragment[pr]),
                                             startsInput: r.lowerBound == 0 && pr.lowerBound == 0)
                    pre?.apply(&t)
                    t.bytes.withUnsafeBufferPointer { tb in
                        for p in t.pieces { bpe.encodeWord(tb, p, chain: &chain, into: &out) }
                    }
                }
            }
        case .sentencePiece(let sp, let normalizer):
            let normalized = normalizer.normalize(b, r)
            normalized.withUnsafeBufferPointer { nb in sp.encode(nb, 0..<nb.count, chain: &chain, into: &out) }
        }
    }
}
