import PruneFormats

/// Builds a tokenizer from a GGUF file's `tokenizer.ggml.*` metadata, behaving as llama.cpp's
/// (`llama_tokenize` with `parse_special`): `gpt2` merge-list BPE with the pre-tokenizer of
/// `tokenizer.ggml.pre`, or `llama` SentencePiece BPE with scores and token types.
enum GGUFTokenizerLoader {
    static func load(path: String, header: GGUFHeader) throws -> Tokenizer {
        let name = displayName(path)
        guard let modelValue = header["tokenizer.ggml.model"], let tokensValue = header["tokenizer.ggml.tokens"] else {
            throw TokenizerError.ggufWithoutTokenizer(path: name)
        }
        guard let modelName = modelValue.stringValue else {
            throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.model", message: "expected a string")
        }
        let isBPE: Bool
        switch modelName {
        case "gpt2": isBPE = true
        case "llama": isBPE = false
        default: throw TokenizerError.unknownGGUFModel(path: name, name: modelName)
        }
        let tokens = try strings(tokensValue, name, "tokenizer.ggml.tokens")
        guard !tokens.isEmpty else { throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.tokens", message: "empty vocabulary") }
        let n = tokens.count

        var pieces = tokens
        for i in 0..<n where pieces[i].isEmpty { pieces[i] = "[EMPTY_\(i)]" }   // llama.cpp's placeholder
        var idOf = PieceIndex(minimumCapacity: n)   // bytes, not String equality (canonically equivalent pieces)
        for (i, t) in pieces.enumerated() {
            if let j = idOf[t] {
                throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.tokens", message: "duplicate token \"\(t)\" at ids \(j) and \(i)")
            }
            idOf[t] = Int32(i)
        }

        var kinds = [TokenKind](repeating: .normal, count: n)
        if let tt = header["tokenizer.ggml.token_type"] {
            let types = try integers(tt, name, "tokenizer.ggml.token_type")
            guard types.count >= n else {
                throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.token_type", message: "\(types.count) types for \(n) tokens")
            }
            for i in 0..<n { kinds[i] = TokenKind(rawValue: Int(types[i])) ?? .unused }
        }
        // A byte token stands for one byte the text may hold (SentencePiece's byte fallback <0xNN>,
        // a byte-level character for gpt2); empty or not UTF-8 in the file, it would drop that byte.
        for i in 0..<n where kinds[i] == .byte {
            let t = tokens[i]
            let fine = isBPE ? !t.isEmpty && !t.unicodeScalars.contains("\u{FFFD}") : TokenDecoder.bytePieceValue(t) != nil
            guard fine else {
                let what = t.isEmpty ? "empty" : t.unicodeScalars.contains("\u{FFFD}") ? "not valid UTF-8" : "\"\(t)\""
                throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.tokens",
                                                          message: "byte token \(i) is \(what)\(isBPE ? "" : ", not <0xNN>")")
            }
        }
        // llama.cpp treats these texts as control whatever their stored type.
        for t in GGUFVocabularyRules.endOfGenerationNames + GGUFVocabularyRules.fillInTheMiddleNames {
            if let id = idOf[t], kinds[Int(id)] != .unknown { kinds[Int(id)] = .control }
        }
        for t in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] { if let id = idOf[t] { kinds[Int(id)] = .userDefined } }

        var scores = [Float](repeating: 0, count: n)
        if let s = header["tokenizer.ggml.scores"] {
            let values = try floats(s, name, "tokenizer.ggml.scores")
            guard values.count >= n else {
                throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.scores", message: "\(values.count) scores for \(n) tokens")
            }
            scores = Array(values.prefix(n))
        }

        func tokenID(_ key: String, default d: Int32?) throws -> Int32? {
            var id = d.flatMap { $0 >= 0 && Int($0) < n ? $0 : nil }
            if let v = header[key] {
                guard let x = v.integerValue else { throw TokenizerError.invalidGGUFTokenizer(path: name, key: key, message: "expected an integer") }
                if x >= 0 && x < n { id = Int32(x) }
            }
            return id
        }
        func flag(_ key: String) throws -> Bool? {
            guard let v = header[key] else { return nil }
            guard case .bool(let b) = v else { throw TokenizerError.invalidGGUFTokenizer(path: name, key: key, message: "expected a bool") }
            return b
        }

        let model: EncodingPipeline.Model
        var addBOS: Bool
        var addEOS = false
        var bosDefault: Int32? = isBPE ? 11 : 1
        let eosDefault: Int32? = isBPE ? 11 : 2
        let unkDefault: Int32? = isBPE ? nil : 0
        let decoder: TokenDecoder
        let family: Tokenizer.Family
        if isBPE {
            let preName: String
            if let p = header["tokenizer.ggml.pre"] {
                guard let s = p.stringValue else { throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.pre", message: "expected a string") }
                preName = s
            } else {
                preName = "default"
            }
            guard let pre = GGUFVocabularyRules.preType(preName) else { throw TokenizerError.unknownGGUFPreTokenizer(path: name, name: preName) }
            addBOS = pre.addBOS
            if pre.clearBOS { bosDefault = nil }
            guard let mergesValue = header["tokenizer.ggml.merges"] else {
                throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.merges", message: "missing: a gpt2 vocabulary needs its merges")
            }
            let mergeLines = try strings(mergesValue, name, "tokenizer.ggml.merges")
            var merges: [UInt64: UInt64] = [:]
            merges.reserveCapacity(mergeLines.count)
            for (rank, line) in mergeLines.enumerated() {
                // llama.cpp splits at the first space after the first byte.
                let u = Array(line.utf8)
                guard u.count > 1, let sp = u[1...].firstIndex(of: 0x20) else { continue }
                let a = Array(u[..<sp]), b = Array(u[(sp + 1)...])
                guard let ia = idOf[bytes: a], let ib = idOf[bytes: b], let im = idOf[bytes: a + b] else { continue }
                let key = BPEModel.key(ia, ib)
                if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(im)) }
            }
            let byteLevelIDs = (0..<256).map { b in idOf[String(Character(Unicode.Scalar(ByteLevelAlphabet.scalarOfByte[b])!))] ?? -1 }
            var whole: [[UInt8]: Int32]? = nil
            if pre.ignoreMerges {
                var w: [[UInt8]: Int32] = [:]
                for (i, t) in pieces.enumerated() { if let raw = ByteLevelAlphabet.bytes(ofPiece: t), w[raw] == nil { w[raw] = Int32(i) } }
                whole = w
            }
            let missing: [[Int32]] = (0..<256).map { b in
                ByteLevelAlphabet.encode([UInt8(b)]).compactMap { idOf[String(decoding: [$0], as: UTF8.self)] }
            }
            let bpe = BPEModel(merges: merges, byteLevelIDs: byteLevelIDs, scalarIDs: [:], wholeWordIDs: whole,
                               byteFallbackIDs: nil, unknownID: nil, fuseUnknown: false, missingSymbolTokens: missing)
            var steps: [PreTokenizer] = []
            for p in pre.patterns {
                guard let s = KnownPatterns.splitter(for: p) else {
                    throw TokenizerError.unknownGGUFPreTokenizer(path: name, name: preName)
                }
                steps.append(.split(s, .isolated, invert: false))
            }
            steps.append(.byteLevel(addPrefixSpace: false, useRegex: false))
            model = .bpe(bpe, normalizer: nil, normalizedTokens: nil, preTokenizer: .sequence(steps))
            decoder = .llamaCpp(spm: false, stripLeadingSpace: false)
            family = .ggufGPT2
        } else {
            addBOS = true
            let addSpacePrefix = try flag("tokenizer.ggml.add_space_prefix") ?? true
            let sp = SentencePieceBPE(flavor: .llamaCpp, pieces: pieces.map { Array($0.utf8) }, scores: scores,
                                      candidate: { _ in true }, unusedIDs: [], byteFallback: true,
                                      unknownID: try tokenID("tokenizer.ggml.unknown_token_id", default: unkDefault), userDefined: [])
            let normalizer = SentencePieceNormalizer(charsMap: nil, addDummyPrefix: addSpacePrefix, removeExtraWhitespaces: false,
                                                     escapeWhitespaces: true, treatWhitespaceAsSuffix: false, userDefined: nil)
            model = .sentencePiece(sp, normalizer)
            decoder = .llamaCpp(spm: true, stripLeadingSpace: addSpacePrefix)
            family = .ggufLlama
        }
        let bos = try tokenID("tokenizer.ggml.bos_token_id", default: bosDefault)
        let eos = try tokenID("tokenizer.ggml.eos_token_id", default: eosDefault)
        let unk = try tokenID("tokenizer.ggml.unknown_token_id", default: unkDefault)
        if let b = try flag("tokenizer.ggml.add_bos_token") { addBOS = b }
        if let e = try flag("tokenizer.ggml.add_eos_token") { addEOS = e }
        if addBOS && bos == nil {
            throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.add_bos_token", message: "true, but tokenizer.ggml.bos_token_id is not set")
        }
        if addEOS && eos == nil {
            throw TokenizerError.invalidGGUFTokenizer(path: name, key: "tokenizer.ggml.add_eos_token", message: "true, but tokenizer.ggml.eos_token_id is not set")
        }

        // llama.cpp cuts control, user-defined and unknown tokens out of the text first.
        var partition: [(text: [UInt8], id: Int32, lstrip: Bool, rstrip: Bool)] = []
        for i in 0..<n where [.control, .userDefined, .unknown].contains(kinds[i]) {
            partition.append((Array(pieces[i].utf8), Int32(i), false, false))
        }
        let special = kinds.map { $0 == .control || $0 == .unknown }
        var eog = Set<Int32>()
        if let e = eos { eog.insert(e) }
        for t in GGUFVocabularyRules.endOfGenerationNames { if let id = idOf[t] { eog.insert(id) } }
        if let v = header["tokenizer.ggml.eot_token_id"]?.integerValue, v >= 0, v < n { eog.insert(Int32(v)) }
        if let v = header["tokenizer.ggml.eom_token_id"]?.integerValue, v >= 0, v < n { eog.insert(Int32(v)) }
        let pipeline = EncodingPipeline(specials: partition.isEmpty ? .none : .llamaCpp(LlamaCppTokenPartition(partition)), model: model,
                                        prefix: addBOS ? [bos!] : [], suffix: addEOS ? [eos!] : [])
        return Tokenizer(source: path, family: family, vocabulary: Vocabulary(pieces: pieces, kinds: kinds, special: special),
                         pipeline: pipeline, decoder: decoder, bos: bos, eos: eos, unknown: unk,
                         addsBOS: addBOS, addsEOS: addEOS, endOfGeneration: eog)
    }

    private static func array(_ v: GGUFValue, _ name: String, _ key: String) throws -> GGUFArray {
        guard case .array(let a) = v else { throw TokenizerError.invalidGGUFTokenizer(path: name, key: key, message: "expected an array") }
        return a
    }

    private static func strings(_ v: GGUFValue, _ name: String, _ key: String) throws -> [String] {
        let a = try array(v, name, key)
        guard case .strings(let s) = a.storage else {
            throw TokenizerError.invalidGGUFTokenizer(path: name, key: key, message: "expected an array of strings, found \(a.elementType)")
        }
        return s
    }

    private static func integers(_ v: GGUFValue, _ name: String, _ key: String) throws -> [Int64] {
        let a = try array(v, name, key)
        var out: [Int64] = []
        out.reserveCapacity(a.count)
        for i in 0..<a.count {
            guard let x = a[i].integerValue else {
                throw TokenizerError.invalidGGUFTokenizer(path: name, key: key, message: "expected integers, found \(a.elementType)")
            }
            out.append(x)
        }
        return out
    }

    private static func floats(_ v: GGUFValue, _ name: String, _ key: String) throws -> [Float] {
        let a = try array(v, name, key)
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for i in 0..<a.count {
            switch a[i] {
            case .float32(let f): out.append(f)
            case .int32(let x): out.append(Float(x))
            default: throw TokenizerError.invalidGGUFTokenizer(path: name, key: key, message: "expected float32 or int32, found \(a.elementType)")
            }
        }
        return out
    }
}
