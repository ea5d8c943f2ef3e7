/// SentencePiece's BPE encoder (`bpe_model.cc`) and llama.cpp's port of it (`llm_tokenizer_spm`):
/// start from single characters and repeatedly merge the adjacent pair whose concatenation is a
/// piece of highest score, leftmost among equals; then map each symbol to its id, falling back to
/// byte pieces `<0xXX>` (or the unknown piece) for symbols that are not pieces.
struct SentencePieceBPE: Sendable {
    enum Flavor: Sendable {
        /// The `sentencepiece` library: merges may produce NORMAL, USER_DEFINED and UNUSED pieces;
        /// user-defined pieces are matched first and never merged; UNUSED results are split back.
        case sentencePiece
        /// llama.cpp: any token's text may be produced; no user-defined matching (llama.cpp
        /// partitions those tokens out beforehand).
        case llamaCpp
    }
    let flavor: Flavor
    /// Text → id of every piece (symbol ids; a symbol whose text is no piece has id -1).
    let pieceIDs: ByteStringTable
    let scalarIDs: ScalarIDTable
    /// `left << 32 | right` → `priority << 32 | merged id`, for every candidate merge result.
    let pairs: PairTable
    /// Candidate merge results by text (for pairs with a symbol that has no id).
    let candidates: ByteStringTable
    let scores: [Float]
    let unusedIDs: Set<Int32>
    /// `<0x00>`…`<0xFF>` ids (-1 when absent); nil when byte fallback is off.
    let byteIDs: [Int32]?
    /// llama.cpp's second byte fallback: the token whose text is the single byte.
    let singleByteIDs: [Int32]?
    let unknownID: Int32?
    /// User-defined pieces (sentencepiece flavor), matched longest-first at each position.
    let userDefined: ByteTrie?

    init(flavor: Flavor, pieces: [[UInt8]], scores: [Float], candidate: (Int) -> Bool, unusedIDs: Set<Int32>,
         byteFallback: Bool, unknownID: Int32?, userDefined: [[UInt8]]) {
        self.flavor = flavor
        // Lookups by slice (no array per lookup): a 262k-piece vocabulary (Gemma 3) loads in a
        // fraction of the time dictionaries keyed by arrays took.
        let ids = ByteStringTable(pieces.enumerated().map { ($0.element, Int32($0.offset)) })
        var scalarIDs: [UInt32: Int32] = [:]
        // A piece that is one scalar (at most 4 bytes), at its first occurrence.
        for (i, p) in pieces.enumerated() where !p.isEmpty && p.count <= 4 && ids.value(p) == Int32(i) {
            let s = String(decoding: p, as: UTF8.self).unicodeScalars
            if s.count == 1, let v = s.first?.value, Array(String(decoding: p, as: UTF8.self).utf8) == p { scalarIDs[v] = Int32(i) }
        }
        let cands = ByteStringTable(pieces.indices.filter { candidate($0) && pieces[$0].count > 1 }.map { (pieces[$0], Int32($0)) })
        // Each candidate text once (its first occurrence), so each pair of ids once.
        var pairs: [(UInt64, UInt64)] = []
        for (i, p) in pieces.enumerated() where p.count > 1 && cands.value(p) == Int32(i) {
            let priority = Self.priority(scores[i])
            p.withUnsafeBufferPointer { b in
                for k in 1..<b.count where b[k] & 0xC0 != 0x80 {
                    if let a = ids.value(b, 0..<k), let c = ids.value(b, k..<b.count) {
                        pairs.append((BPEModel.key(a, c), UInt64(priority) << 32 | UInt64(UInt32(i))))
                    }
                }
            }
        }
        self.pieceIDs = ids
        self.scalarIDs = ScalarIDTable(scalarIDs)
        self.pairs = PairTable(pairs)
        self.candidates = cands
        self.scores = scores
        self.unusedIDs = unusedIDs
        self.unknownID = unknownID
        if byteFallback {
            byteIDs = (0..<256).map { b in ids.value(Array(String(format: "<0x%02X>", b).utf8)) ?? -1 }
        } else {
            byteIDs = nil
        }
        singleByteIDs = flavor == .llamaCpp ? (0..<256).map { b in ids.value([UInt8(b)]) ?? -1 } : nil
        self.userDefined = userDefined.isEmpty ? nil : ByteTrie(userDefined.enumerated().map { ($0.element, Int32($0.offset)) })
    }

    /// Higher scores first: an order-preserving map of the float, inverted (-0 counts as 0).
    static func priority(_ score: Float) -> UInt32 {
        let s: Float = score == 0 ? 0 : score
        let bits = s.bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return ~ordered
    }

    /// The candidate merge of symbols `l` and `r`: (priority, merged id).
    @inline(__always)
    private func candidate(_ chain: borrowing SymbolChain, _ bytes: UnsafeBufferPointer<UInt8>, _ l: Int, _ r: Int) -> (UInt32, Int32)? {
        if chain.symbols[l].frozen || chain.symbols[r].frozen { return nil }
        let a = chain.symbols[l].id, b = chain.symbols[r].id
        if a >= 0 && b >= 0 {
            guard let m = pairs[BPEModel.key(a, b)] else { return nil }
            return (UInt32(truncatingIfNeeded: m >> 32), Int32(truncatingIfNeeded: m))
        }
        let s = Int(chain.symbols[l].start)
        let e = s + Int(chain.symbols[l].length) + Int(chain.symbols[r].length)
        guard let id = candidates.value(bytes, s..<e) else { return nil }
        return (Self.priority(scores[Int(id)]), id)
    }

    /// Appends the ids of the normalized text `bytes[range]`.
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, chain: inout SymbolChain, into out: inout [Int32]) {
        guard !range.isEmpty else { return }
        chain.reset()
        chain.symbols.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            if let ud = userDefined, let m = ud.longestMatch(bytes, from: i, end: range.upperBound) {
                chain.append(id: pieceIDs.value(bytes, i..<(i + m.length)) ?? -1, start: i, length: m.length, frozen: true)
                i += m.length
                continue
            }
            let (v, len) = UTF8Scalar.decode(bytes, at: i, end: range.upperBound)
            chain.append(id: scalarIDs[v] ?? -1, start: i, length: len)
            i += len
        }
        var revMerge: [[UInt8]: ([UInt8], [UInt8])] = [:]
        let trackUnused = flavor == .sentencePiece && !unusedIDs.isEmpty
        func push(_ l: Int, _ r: Int) {
            guard let (p, id) = candidate(chain, bytes, l, r) else { return }
            chain.heap.push(priority: p, position: l)
            if trackUnused && unusedIDs.contains(id) {
                let s = Int(chain.symbols[l].start), m = s + Int(chain.symbols[l].length), e = m + Int(chain.symbols[r].length)
                revMerge[Array(bytes[s..<e])] = (Array(bytes[s..<m]), Array(bytes[m..<e]))
            }
        }
        let n = chain.count
        if n > 1 {
            for k in 0..<(n - 1) { push(k, k + 1) }
            while let (priority, pos) = chain.heap.pop() {
                guard chain.symbols[pos].length > 0 else { continue }
                let nx = Int(chain.symbols[pos].next)
                guard nx >= 0, let (p, id) = candidate(chain, bytes, pos, nx), p == priority else { continue }
                chain.merge(pos, into: id)
                let pv = Int(chain.symbols[pos].prev)
                if pv >= 0 { push(pv, pos) }
                let q = Int(chain.symbols[pos].next)
                if q >= 0 { push(pos, q) }
            }
        }
        var previousUnknown = false
        var k = 0
        while k >= 0 && k < n {
            let id = chain.symbols[k].id
            if id >= 0 && (flavor == .llamaCpp || id != unknownID) && !(trackUnused && unusedIDs.contains(id)) {
                out.append(id)   // the common case: a piece
                previousUnknown = false
            } else {
                let s = Int(chain.symbols[k].start), l = Int(chain.symbols[k].length)
                if trackUnused && id >= 0 && unusedIDs.contains(id) {
                    resegment(Array(bytes[s..<(s + l)]), revMerge, &previousUnknown, &out)
                } else {
                    emit(id, Array(bytes[s..<(s + l)]), &previousUnknown, &out)
                }
            }
            k = Int(chain.symbols[k].next)
        }
    }

    /// sentencepiece's `resegment`: an UNUSED piece is replaced by the pair it was merged from.
    private func resegment(_ text: [UInt8], _ revMerge: [[UInt8]: ([UInt8], [UInt8])], _ previousUnknown: inout Bool, _ out: inout [Int32]) {
        let id = pieceIDs.value(text) ?? -1
        if id >= 0 && unusedIDs.contains(id), let (a, b) = revMerge[text] {
            resegment(a, revMerge, &previousUnknown, &out)
            resegment(b, revMerge, &previousUnknown, &out)
            return
        }
        emit(id, text, &previousUnknown, &out)
    }

    /// A final symbol: its id, or byte pieces, or the unknown piece (consecutive unknowns fused in
    /// the sentencepiece flavor, as `SentencePieceProcessor` does).
    private func emit(_ id: Int32, _ text: [UInt8], _ previousUnknown: inout Bool, _ out: inout [Int32]) {
        if id >= 0 && (flavor == .llamaCpp || id != unknownID) {
            out.append(id)
            previousUnknown = false
            return
        }
        if let b = byteIDs {
            for byte in text {
                var t = b[Int(byte)]
                if t < 0, let single = singleByteIDs { t = single[Int(byte)] }
                if t < 0 { t = unknownID ?? -1 }
                if t >= 0 { out.append(t) }
            }
            previousUnknown = false
            return
        }
        guard let unk = unknownID else { return }
        if !(previousUnknown && flavor == .sentencePiece) { out.append(unk) }
        previousUnknown = true
    }
}
