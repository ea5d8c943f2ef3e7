import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// SentencePiece BPE (tokenizer.model) against the `sentencepiece` library: the llama-tiny
/// folder, the same folder with only tokenizer.json, and small models trained with other
/// normalizer settings (nmt_nfkc charsmap, kept spaces, no dummy prefix, user-defined pieces,
/// whitespace as suffix, no byte fallback).
@Suite("SentencePiece") struct SentencePieceTests {
    static func check(_ tok: Tokenizer, _ texts: [String], _ refs: [TokTest.Ref], decode: Bool = true, sourceOf label: String) {
        let plain = TokTest.mismatches(texts, { tok.encode($0, addSpecialTokens: false) }, refs.map(\.plain))
        #expect(plain.isEmpty, "\(label): \(plain)")
        let special = TokTest.mismatches(texts, { tok.encode($0) }, refs.map(\.special))
        #expect(special.isEmpty, "\(label): \(special)")
        guard decode else { return }
        var bad: [String] = []
        for (t, r) in zip(texts, refs) where !t.contains("<") {
            // sentencepiece's decode of the ids (control pieces only come from special strings, skipped here).
            let d = tok.decode(r.plain)
            if let want = r.decoded, Array(d.utf8) != Array(want.utf8), bad.count < 5 { bad.append("\(JSONText.quote(t)): got \(JSONText.quote(d)) want \(JSONText.quote(want))") }
        }
        #expect(bad.isEmpty, "\(label): \(bad)")
    }

    @Test("llama-tiny folder: tokenizer.model is used and ids equal sentencepiece's (BOS 1 added); decode equals sentencepiece's")
    func llamaFolder() throws {
        let folder = try TokTest.fixture("llama-tiny")
        let tok = try TokenizerLoader.load(path: folder)
        #expect(tok.family == .sentencePieceBPE)
        #expect(tok.addsBOS && !tok.addsEOS && tok.bosTokenID == 1 && tok.eosTokenID == 2 && tok.unknownTokenID == 0)
        #expect(tok.isControl(1) && tok.isControl(2) && tok.kind(of: 0) == .unknown && tok.kind(of: 3) == .byte)
        let texts = try TokTest.allTexts()
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let refs = try TokTest.refs(try TokTest.python(["sp", folder + "/tokenizer.model", try TokTest.writeTexts(texts, in: dir), "--bos", "1"]))
        Self.check(tok, texts, refs, sourceOf: "llama-tiny")
        // The runs of spaces the converted tokenizer.json gets wrong: sentencepiece's ids.
        #expect(tok.encode("  leading spaces") == [1, 3999, 3999, 1889, 281, 646, 2167])
        // Decoding gives the text back (texts without special-token strings, and without "▁",
        // which SentencePiece itself decodes to a space).
        let notBack = texts.filter { !$0.contains("<") && !$0.unicodeScalars.contains("\u{2581}") && Array(tok.decode(tok.encode($0, addSpecialTokens: false)).utf8) != Array($0.utf8) }
        #expect(notBack.isEmpty, "\(notBack.prefix(3).map(JSONText.quote))")
    }

    @Test("a SentencePiece folder with only tokenizer.json behaves as sentencepiece on the original tokenizer.model")
    func jsonOnlyFolder() throws {
        let src = try TokTest.fixture("llama-tiny")
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/llama-json-only"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for f in ["tokenizer.json", "tokenizer_config.json", "config.json"] {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: folder + "/" + f)
        }
        let tok = try TokenizerLoader.load(path: folder)
        #expect(tok.family == .huggingFaceBPE)
        let texts = try TokTest.allTexts()
        let refs = try TokTest.refs(try TokTest.python(["sp", src + "/tokenizer.model", try TokTest.writeTexts(texts, in: dir), "--bos", "1"]))
        Self.check(tok, texts, refs, decode: false, sourceOf: "llama-tiny tokenizer.json only")

        // The older Llama-2 conversion: no pre-tokenizer, a Prepend("▁") + Replace(" " → "▁") normalizer.
        let legacy = dir + "/llama-legacy-json"
        try FileManager.default.createDirectory(atPath: legacy, withIntermediateDirectories: true)
        guard var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/tokenizer.json"))) as? [String: Any] else {
            throw TokTest.Failure("tokenizer.json")
        }
        json["pre_tokenizer"] = NSNull()
        json["normalizer"] = ["type": "Sequence", "normalizers": [["type": "Prepend", "prepend": "\u{2581}"],
                                                                  ["type": "Replace", "pattern": ["String": " "], "content": "\u{2581}"]]]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: legacy + "/tokenizer.json"))
        try FileManager.default.copyItem(atPath: src + "/tokenizer_config.json", toPath: legacy + "/tokenizer_config.json")
        Self.check(try TokenizerLoader.load(path: legacy), texts, refs, decode: false, sourceOf: "llama-tiny legacy tokenizer.json")
    }

    @Test("SentencePiece models trained with other normalizer settings (nmt_nfkc charsmap, kept spaces, no dummy prefix, user-defined and control symbols, whitespace suffix, byte fallback on/off)")
    func trainedVariants() throws {
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let texts = try TokTest.stressTexts() + Array(try TokTest.heldout("gpt2-tiny").prefix(200))
        let out = try TokTest.python(["train-sp", dir, try TokTest.writeTexts(texts, in: dir)])
        guard let all = try JSONSerialization.jsonObject(with: out) as? [String: Any] else { throw TokTest.Failure("train-sp output") }
        #expect(all.count == 6)
        for (name, value) in all.sorted(by: { $0.key < $1.key }) {
            let folder = dir + "/" + name + "-folder"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: dir + "/" + name + ".model", toPath: folder + "/tokenizer.model")
            let tok = try TokenizerLoader.load(path: folder)
            var refs = try TokTest.refs(value)
            for i in refs.indices { refs[i].special = [1] + refs[i].plain }   // LlamaTokenizer default: BOS
            Self.check(tok, texts, refs, sourceOf: name)
        }
    }
}
