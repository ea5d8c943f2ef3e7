/// Builds a tokenizer from a Hugging Face `tokenizer.json` (model `BPE`), with the folder's
/// tokenizer_config.json for BOS/EOS. A SentencePiece-style file (byte fallback, Metaspace or a
/// `▁` Prepend normalizer) follows SentencePiece: the `▁` prefix goes before every fragment.
enum HFTokenizerJSONLoader {
    static func load(path: String, config: HFTokenizerConfig) throws -> Tokenizer {
        let root = JSONField.root(try JSONFile.read(path), file: path)
        guard case .object = root.node else { throw root.error("expected an object") }
        let model = try root.require("model")
        let type = try model["type"]?.string() ?? (model["merges"] != nil ? "BPE" : "unknown")
        guard type == "BPE" else { throw TokenizerError.unknownModelType(path: path, type: type, place: model.place + ".type") }
        if let d = model["dropout"], try d.double() > 0 {
            throw TokenizerError.unsupported(path: path, what: "BPE dropout", place: d.place)
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let f = model[key], !(try f.string()).isEmpty {
                throw TokenizerError.unsupported(path: path, what: key, place: f.place)
            }
        }

        // Vocabulary: the model's vocab and the added tokens.
        var maxID: Int32 = -1
        let vocabField = try model.require("vocab")
        let members = try vocabField.members()
        var idOf = PieceIndex(minimumCapacity: members.count)   // bytes, not String equality (canonically equivalent pieces)
        for (piece, v) in members {
            let id = try v.int()
            guard id >= 0, id < Int(Int32.max) else { throw v.error("token id \(id) out of range") }
            idOf[piece] = Int32(id)
            maxID = max(maxID, Int32(id))
        }
        var added: [AddedToken] = []
        for f in try root["added_tokens"]?.array() ?? [] {
            let content = try f.require("content").string()
            let id = try f.require("id").int()
            guard id >= 0, id < Int(Int32.max) else { throw f.error("token id \(id) out of range") }
            added.append(AddedToken(id: Int32(id), content: Array(content.utf8), special: try f.bool("special", default: false),
                                    lstrip: try f.bool("lstrip", default: false), rstrip: try f.bool("rstrip", default: false),
                                    singleWord: try f.bool("single_word", default: false), normalized: try f.bool("normalized", default: true)))
            maxID = max(maxID, Int32(id))
            if idOf[content] == nil { idOf[content] = Int32(id) }
        }
        // Ids are dense in real files; a stray huge id must not make us allocate gigabytes.
        guard Int(maxID) < members.count + added.count + 65536 else {
            throw TokenizerError.invalidTokenizerJSON(path: path, place: "model.vocab", message: "token id \(maxID) is far beyond the \(members.count + added.count) tokens")
        }
        let count = Int(maxID) + 1
        var pieces = [String](repeating: "", count: count)
        var kinds = [TokenKind](repeating: .unused, count: count)
        var special = [Bool](repeating: false, count: count)
        for (piece, v) in members { let id = try v.int(); pieces[id] = piece; kinds[id] = .normal }

        // Components.
        let normalizer = try root["normalizer"].map(HFComponentParser.normalizer)
        var pre = try root["pre_tokenizer"].map(HFComponentParser.preTokenizer)
        let byteFallback = try model.bool("byte_fallback", default: false)
        let sentencePieceStyle = byteFallback || pre.map(containsMetaspace) == true || normalizer.map(prependsSpaceSymbol) == true
        if sentencePieceStyle, let p = pre { pre = sentencePieceMetaspace(p) }
        let byteLevel = pre.map(containsByteLevel) ?? false

        for t in added {
            pieces[Int(t.id)] = String(decoding: t.content, as: UTF8.self)
            kinds[Int(t.id)] = t.special ? .control : .userDefined
            special[Int(t.id)] = t.special
        }
        var unknownID: Int32? = nil
        if let u = model["unk_token"] {
            let name = try u.string()
            guard let id = idOf[name] else { throw u.error("unk_token \"\(name)\" is not in the vocabulary") }
            unknownID = id
            kinds[Int(id)] = .unknown
            special[Int(id)] = true
        }
        var byteFallbackIDs: [Int32]? = nil
        if byteFallback {
            let ids = (0..<256).map { idOf[Self.bytePiece($0)] ?? -1 }
            for id in ids where id >= 0 && kinds[Int(id)] == .normal { kinds[Int(id)] = .byte }
            byteFallbackIDs = ids
        }

        // Merges.
        var merges: [UInt64: UInt64] = [:]
        // JSONField reads null as absent; tokenizers refuses a null merge list.
        if case .null? = model.node["merges"] {
            throw TokenizerError.invalidTokenizerJSON(path: path, place: model.place + ".merges", message: "null; expected an array of merges")
        }
        let mergeList = try model["merges"]?.array() ?? []
        merges.reserveCapacity(mergeList.count)
        for (rank, f) in mergeList.enumerated() {
            let a: [UInt8], b: [UInt8]
            switch f.node {
            case .string(let s):
                // Split the bytes: a String split is by Character, and " " + a combining mark is one Character.
                let parts = Array(s.utf8).split(separator: 0x20, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw f.error("a merge must be two tokens separated by one space") }
                a = Array(parts[0]); b = Array(parts[1])
            case .array:
                let parts = try f.array()
                guard parts.count == 2 else { throw f.error("a merge must be a pair of tokens") }
                a = Array(try parts[0].string().utf8); b = Array(try parts[1].string().utf8)
            default:
                throw f.error("expected \"a b\" or [\"a\", \"b\"]")
            }
            guard let ia = idOf[bytes: a], let ib = idOf[bytes: b] else {
                throw f.error("merge \"\(String(decoding: a, as: UTF8.self)) \(String(decoding: b, as: UTF8.self))\" uses a token that is not in the vocabulary")
            }
            guard let im = idOf[bytes: a + b] else { throw f.error("merge result \"\(String(decoding: a + b, as: UTF8.self))\" is not in the vocabulary") }
            let key = BPEModel.key(ia, ib)
            merges[key] = UInt64(rank) << 32 | UInt64(UInt32(im))
        }

        var scalarIDs: [UInt32: Int32] = [:]
        var byteLevelIDs: [Int32]? = nil
        var wholeWords: [[UInt8]: Int32]? = nil
        let ignoreMerges = try model.bool("ignore_merges", default: false)
        if byteLevel {
            byteLevelIDs = (0..<256).map { idOf[String(Character(Unicode.Scalar(ByteLevelAlphabet.scalarOfByte[$0])!))] ?? -1 }
            if ignoreMerges {
                var w: [[UInt8]: Int32] = [:]
                for (piece, v) in members { if let raw = ByteLevelAlphabet.bytes(ofPiece: piece) { w[raw] = Int32(try v.int()) } }
                wholeWords = w
            }
        } else {
            for (piece, v) in members {
                let s = piece.unicodeScalars
                if s.count == 1, let sc = s.first { scalarIDs[sc.value] = Int32(try v.int()) }
            }
            if ignoreMerges {
                var w: [[UInt8]: Int32] = [:]
                for (piece, v) in members { w[Array(piece.utf8)] = Int32(try v.int()) }
                wholeWords = w
            }
        }
        let bpe = BPEModel(merges: merges, byteLevelIDs: byteLevelIDs, scalarIDs: scalarIDs, wholeWordIDs: wholeWords,
                           byteFallbackIDs: byteFallbackIDs, unknownID: unknownID, fuseUnknown: try model.bool("fuse_unk", default: false),
                           missingSymbolTokens: nil)

        // Added tokens: the non-normalized ones are found in the raw text; with a normalizer, the
        // normalized ones, their content normalized too, in the normalized text (tokenizers' two passes).
        var raw = added, normalizedTokens: [AddedToken] = []
        if let n = normalizer {
            raw = added.filter { !$0.normalized }
            normalizedTokens = added.filter(\.normalized).map { t in
                var c = t
                c.content = n.apply(t.content)
                return c
            }
        }

        // BOS / EOS: the post-processor, or transformers' rebuilt template when tokenizer_config
        // sets add_bos_token / add_eos_token (or the file has no post-processor).
        let bosID = config.bosToken.flatMap { idOf[$0] }
        let eosID = config.eosToken.flatMap { idOf[$0] }
        var prefix: [Int32] = [], suffix: [Int32] = []
        if let p = root["post_processor"], !config.explicitBOSEOS {
            (prefix, suffix) = try HFComponentParser.postProcessor(p, idOf: { idOf[$0] })
        } else {
            if config.addBOS == true, let b = bosID { prefix = [b] }
            if config.addEOS == true, let e = eosID { suffix = [e] }
        }

        let decoder = try root["decoder"].map(HFComponentParser.decoder)
        let vocabulary = Vocabulary(pieces: pieces, kinds: kinds, special: special)
        let pipeline = EncodingPipeline(
            specials: raw.isEmpty ? .none : .addedTokens(AddedTokenMatcher(raw)),
            model: .bpe(bpe, normalizer: normalizer, normalizedTokens: normalizedTokens.isEmpty ? nil : AddedTokenMatcher(normalizedTokens), preTokenizer: pre),
            prefix: prefix, suffix: suffix)
        var eog = Set<Int32>()
        if let e = eosID { eog.insert(e) }
        for name in GGUFVocabularyRules.endOfGenerationNames { if let id = idOf[name], kinds[Int(id)] == .control { eog.insert(id) } }
        return Tokenizer(source: path, family: .huggingFaceBPE, vocabulary: vocabulary, pipeline: pipeline, decoder: .huggingFace(decoder),
                         bos: bosID ?? prefix.first, eos: eosID ?? suffix.last, unknown: unknownID,
                         addsBOS: !prefix.isEmpty, addsEOS: !suffix.isEmpty, endOfGeneration: eog)
    }

    static func bytePiece(_ b: Int) -> String {
        let hex = Array("0123456789ABCDEF")
        return "<0x" + String(hex[b >> 4]) + String(hex[b & 15]) + ">"
    }

    static func containsByteLevel(_ p: PreTokenizer) -> Bool {
        switch p {
        case .byteLevel: return true
        case .sequence(let s): return s.contains(where: containsByteLevel)
        default: return false
        }
    }

    static func containsMetaspace(_ p: PreTokenizer) -> Bool {
        switch p {
        case .metaspace: return true
        case .sequence(let s): return s.contains(where: containsMetaspace)
        default: return false
        }
    }

    static func prependsSpaceSymbol(_ n: Normalizer) -> Bool {
        switch n {
        case .prepend(let p): return p == SentencePieceNormalizer.spaceSymbol
        case .sequence(let s): return s.contains(where: prependsSpaceSymbol)
        default: return false
        }
    }

    /// Metaspace steps that prepend as SentencePiece does (even before a leading `▁`).
    static func sentencePieceMetaspace(_ p: PreTokenizer) -> PreTokenizer {
        switch p {
        case .metaspace(let r, let scheme, let split, _): return .metaspace(replacement: r, prependScheme: scheme, split: split, prependAlways: true)
        case .sequence(let s): return .sequence(s.map(sentencePieceMetaspace))
        default: return p
        }
    }
}
