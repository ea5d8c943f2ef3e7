/// A merge-list BPE model: Hugging Face `tokenizers`' `BPE` and llama.cpp's `gpt2` vocabularies.
/// Symbols are token ids; `merges` maps a pair of ids to its rank and the merged id. Each step
/// merges the pair of lowest rank, leftmost among equals (both libraries' order).
struct BPEModel: Sendable {
    /// `left << 32 | right` → `rank << 32 | merged id`.
    let merges: PairTable
    /// For byte-level vocabularies: the id of each byte's character (-1 when absent).
    let byteLevelIDs: [Int32]?
    /// For other vocabularies: the id of each single-scalar piece.
    let scalarIDs: ScalarIDTable
    /// `ignore_merges`: a word that is itself a token becomes that token. Keys are the word's raw
    /// bytes (byte-level vocabularies: the bytes the characters stand for).
    let wholeWordIDs: ByteStringTable?
    /// `byte_fallback`: the ids of `<0x00>`…`<0xFF>` (-1 when absent).
    let byteFallbackIDs: [Int32]?
    let unknownID: Int32?
    let fuseUnknown: Bool
    /// What becomes of a final symbol without an id: `tokenizers` never has one; llama.cpp emits,
    /// for each byte of the symbol's text, the token whose text is that single byte, if any. For a
    /// byte-level vocabulary the text of raw byte b is its character's UTF-8, so this table gives,
    /// per raw byte, those tokens (nil: drop the symbol).
    let missingSymbolTokens: [[Int32]]?

    init(merges: [UInt64: UInt64], byteLevelIDs: [Int32]?, scalarIDs: [UInt32: Int32], wholeWordIDs: [[UInt8]: Int32]?,
         byteFallbackIDs: [Int32]?, unknownID: Int32?, fuseUnknown: Bool, missingSymbolTokens: [[Int32]]?) {
        self.merges = PairTable(merges)
        self.byteLevelIDs = byteLevelIDs
        self.scalarIDs = ScalarIDTable(scalarIDs)
        self.wholeWordIDs = wholeWordIDs.map { d in ByteStringTable(d.sorted { $0.value < $1.value }.map { ($0.key, $0.value) }) }
        self.byteFallbackIDs = byteFallbackIDs
        self.unknownID = unknownID
        self.fuseUnknown = fuseUnknown
        self.missingSymbolTokens = missingSymbolTokens
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// Appends the ids of the word `bytes[range]` to `out`.
    func encodeWord(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, chain: inout SymbolChain, into out: inout [Int32]) {
        guard !range.isEmpty else { return }
        if let whole = wholeWordIDs, let id = whole.value(bytes, range) {
            out.append(id)
            return
        }
        chain.reset()
        if let table = byteLevelIDs {
            for i in range { chain.append(id: table[Int(bytes[i])], start: i, length: 1) }
        } else {
            initialSymbols(bytes, range, &chain)
        }
        let n = chain.count
        if n > 1 {
            for i in 0..<(n - 1) {
                if let m = merges[Self.key(chain.symbols[i].id, chain.symbols[i + 1].id)] {
                    chain.heap.push(priority: UInt32(truncatingIfNeeded: m >> 32), position: i)
                }
            }
            while let (rank, pos) = chain.heap.pop() {
                guard chain.symbols[pos].length > 0 else { continue }
                let nx = Int(chain.symbols[pos].next)
                guard nx >= 0, let m = merges[Self.key(chain.symbols[pos].id, chain.symbols[nx].id)],
                      UInt32(truncatingIfNeeded: m >> 32) == rank else { continue }
                chain.merge(pos, into: Int32(truncatingIfNeeded: m))
                let p = Int(chain.symbols[pos].prev)
                if p >= 0, let m2 = merges[Self.key(chain.symbols[p].id, chain.symbols[pos].id)] {
                    chain.heap.push(priority: UInt32(truncatingIfNeeded: m2 >> 32), position: p)
                }
                let q = Int(chain.symbols[pos].next)
                if q >= 0, let m3 = merges[Self.key(chain.symbols[pos].id, chain.symbols[q].id)] {
                    chain.heap.push(priority: UInt32(truncatingIfNeeded: m3 >> 32), position: pos)
                }
            }
        }
        var i = 0
        while i >= 0 && i < n {
            let id = chain.symbols[i].id
            if id >= 0 {
                out.append(id)
            } else if let table = missingSymbolTokens {
                let s = Int(chain.symbols[i].start), l = Int(chain.symbols[i].length)
                for b in s..<(s + l) { out.append(contentsOf: table[Int(bytes[b])]) }
            }
            i = Int(chain.symbols[i].next)
        }
    }

    /// Symbols of a non-byte-level word: one per character, looked up; unknown characters become
    /// byte-fallback tokens or the unknown token (fused when `fuse_unk`), as `BPE::merge_word` does.
    private func initialSymbols(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ chain: inout SymbolChain) {
        var i = range.lowerBound
        var pendingUnknown: (start: Int, length: Int)? = nil
        while i < range.upperBound {
            let (v, len) = UTF8Scalar.decode(bytes, at: i, end: range.upperBound)
            if let id = scalarIDs[v] {
                if let u = pendingUnknown, let unk = unknownID { chain.append(id: unk, start: u.start, length: u.length); pendingUnknown = nil }
                chain.append(id: id, start: i, length: len)
            } else if let fb = byteFallbackIDs, (i..<(i + len)).allSatisfy({ fb[Int(bytes[$0])] >= 0 }) {
                for b in i..<(i + len) { chain.append(id: fb[Int(bytes[b])], start: b, length: 1) }
            } else if let unk = unknownID {
                if let u = pendingUnknown {
                    if fuseUnknown {
                        pendingUnknown = (u.start, u.length + len)
                    } else {
                        chain.append(id: unk, start: u.start, length: u.length)
                        pendingUnknown = (i, len)
                    }
                } else {
                    pendingUnknown = (i, len)
                }
            }
            i += len
        }
        if let u = pendingUnknown, let unk = unknownID { chain.append(id: unk, start: u.start, length: u.length) }
    }
}
