import Foundation

/// Builds a tokenizer from a SentencePiece `tokenizer.model` (BPE with or without byte
/// fallback), behaving as the `sentencepiece` library. Control and unknown pieces (and the
/// folder's tokenizer.json added tokens) found in a text become their tokens; each fragment
/// between them is encoded on its own, as llama.cpp and transformers do.
enum SentencePieceLoader {
    static func load(path: String, config: HFTokenizerConfig, addedTokens: [AddedToken]) throws -> Tokenizer {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw TokenizerError.cannotRead(path: path, reason: (error as NSError).localizedDescription)
        }
        guard !bytes.isEmpty else { throw TokenizerError.invalidSentencePiece(path: path, message: "the file is empty, not a SentencePiece model") }
        let m: SentencePieceModelFile
        do {
            m = try SentencePieceModelFile.parse(bytes)
        } catch {
            throw TokenizerError.malformedProtobuf(path: path, offset: error.offset, message: error.message)
        }
        // Before the model type: a protobuf without pieces reads as the default type (UNIGRAM).
        guard !m.pieces.isEmpty else { throw TokenizerError.invalidSentencePiece(path: path, message: "no pieces, not a SentencePiece model") }
        guard m.modelType == 2 else {
            throw TokenizerError.unknownModelType(path: path, type: SentencePieceModelFile.modelTypeName(m.modelType), place: "trainer_spec.model_type")
        }
        var seen = Set<[UInt8]>()
        var unknownID: Int32? = nil
        for (i, p) in m.pieces.enumerated() {
            guard !p.text.isEmpty else { throw TokenizerError.invalidSentencePiece(path: path, message: "piece \(i) is empty") }
            guard (1...6).contains(p.type) else { throw TokenizerError.invalidSentencePiece(path: path, message: "piece \(i) has unknown type \(p.type)") }
            guard seen.insert(p.text).inserted else {
                throw TokenizerError.invalidSentencePiece(path: path, message: "piece \(i) \"\(String(decoding: p.text, as: UTF8.self))\" is defined twice")
            }
            if p.type == 2 {
                guard unknownID == nil else { throw TokenizerError.invalidSentencePiece(path: path, message: "more than one unknown piece (piece \(i))") }
                unknownID = Int32(i)
            }
            if p.type == 6 && !m.byteFallback {
                throw TokenizerError.invalidSentencePiece(path: path, message: "byte piece \(i) but byte_fallback is false")
            }
        }
        guard let unk = unknownID else { throw TokenizerError.invalidSentencePiece(path: path, message: "no unknown piece") }

        let kinds = m.pieces.map { TokenKind(rawValue: $0.type) ?? .normal }
        let texts = m.pieces.map(\.text)
        let userDefined = m.pieces.filter { $0.type == 4 }.map(\.text)
        let model = SentencePieceBPE(flavor: .sentencePiece, pieces: texts, scores: m.pieces.map(\.score),
                                     candidate: { [1, 4, 5].contains(m.pieces[$0].type) },
                                     unusedIDs: Set(m.pieces.indices.filter { m.pieces[$0].type == 5 }.map { Int32($0) }),
                                     byteFallback: m.byteFallback, unknownID: unk, userDefined: userDefined)
        if m.byteFallback, let b = model.byteIDs, b.contains(-1) {
            throw TokenizerError.invalidSentencePiece(path: path, message: "byte_fallback is true but not all 256 byte pieces <0x00>…<0xFF> exist")
        }
        var charsMap: PrecompiledCharsMap? = nil
        if !m.charsMap.isEmpty {
            var problem = ""
            guard let c = PrecompiledCharsMap(m.charsMap, problem: &problem) else {
                throw TokenizerError.invalidSentencePiece(path: path, message: problem + " (normalizer_spec.precompiled_charsmap)")
            }
            charsMap = c
        }
        let normalizer = SentencePieceNormalizer(
            charsMap: charsMap, addDummyPrefix: m.addDummyPrefix, removeExtraWhitespaces: m.removeExtraWhitespaces,
            escapeWhitespaces: m.escapeWhitespaces, treatWhitespaceAsSuffix: m.treatWhitespaceAsSuffix,
            userDefined: userDefined.isEmpty ? nil : ByteTrie(userDefined.map { ($0, 0) }))

        // Texts matched before encoding: control and unknown pieces, and added tokens of the
        // folder's tokenizer.json that are not user-defined pieces (sentencepiece matches those itself).
        var count = m.pieces.count
        var pieces = texts.map { String(decoding: $0, as: UTF8.self) }
        var allKinds = kinds
        var special = kinds.map { $0 == .control || $0 == .unknown }
        var matched: [AddedToken] = []
        for (i, p) in m.pieces.enumerated() where p.type == 2 || p.type == 3 {
            matched.append(AddedToken(id: Int32(i), content: p.text, special: true))
        }
        let userSet = Set(userDefined)
        for t in addedTokens where !userSet.contains(t.content) && !matched.contains(where: { $0.id == t.id }) {
            matched.append(t)
            if Int(t.id) >= count {
                let extra = Int(t.id) + 1 - count
                pieces += Array(repeating: "", count: extra)
                allKinds += Array(repeating: .unused, count: extra)
                special += Array(repeating: false, count: extra)
                count = Int(t.id) + 1
            }
            if Int(t.id) >= m.pieces.count {
                pieces[Int(t.id)] = String(decoding: t.content, as: UTF8.self)
                allKinds[Int(t.id)] = t.special ? .control : .userDefined
            }
            special[Int(t.id)] = special[Int(t.id)] || t.special
        }

        func validID(_ id: Int32) -> Int32? { id >= 0 && Int(id) < m.pieces.count ? id : nil }
        let bos = config.bosToken.flatMap { name in texts.firstIndex(of: Array(name.utf8)).map(Int32.init) } ?? validID(m.bosID)
        let eos = config.eosToken.flatMap { name in texts.firstIndex(of: Array(name.utf8)).map(Int32.init) } ?? validID(m.eosID)
        let addsBOS = (config.addBOS ?? true) && bos != nil
        let addsEOS = (config.addEOS ?? false) && eos != nil
        let vocabulary = Vocabulary(pieces: pieces, kinds: allKinds, special: special)
        let pipeline = EncodingPipeline(specials: .addedTokens(AddedTokenMatcher(matched)), model: .sentencePiece(model, normalizer),
                                        prefix: addsBOS ? [bos!] : [], suffix: addsEOS ? [eos!] : [])
        var eog = Set<Int32>()
        if let e = eos { eog.insert(e) }
        return Tokenizer(source: path, family: .sentencePieceBPE, vocabulary: vocabulary, pipeline: pipeline,
                         decoder: .sentencePiece(stripLeadingSpace: m.addDummyPrefix || m.removeExtraWhitespaces),
                         bos: bos, eos: eos, unknown: unk, addsBOS: addsBOS, addsEOS: addsEOS, endOfGeneration: eog)
    }
}
