import Foundation
import Testing
@testable import PruneFormats
@testable import PruneTokenizers

/// The byte-level BPE of a Hugging Face folder (gpt2-tiny) against `tokenizers` / transformers on
/// the stress list and both fixtures' heldout lines.
@Suite("HFTokenizer") struct HFTokenizerTests {
    @Test("gpt2-tiny folder: ids equal tokenizers' (no special tokens) and transformers' (with them); decode equals tokenizers' decode and gives back the text")
    func gpt2Folder() throws {
        let folder = try TokTest.fixture("gpt2-tiny")
        let tok = try TokenizerLoader.load(path: folder)
        #expect(tok.family == .huggingFaceBPE)
        #expect(tok.vocabularySize == 4096)
        #expect(!tok.addsBOS && !tok.addsEOS)
        #expect(tok.eosTokenID == 0 && tok.bosTokenID == 0)
        let texts = try TokTest.allTexts()
        let dir = try TokTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let refs = try TokTest.refs(try TokTest.python(["hf", folder, try TokTest.writeTexts(texts, in: dir)]))
        #expect(refs.count == texts.count)
        let plain = TokTest.mismatches(texts, { tok.encode($0, addSpecialTokens: false) }, refs.map(\.plain))
        #expect(plain.isEmpty, "\(plain)")
        let special = TokTest.mismatches(texts, { tok.encode($0) }, refs.map(\.special))
        #expect(special.isEmpty, "\(special)")
        var decodeBad: [String] = []
        for (t, r) in zip(texts, refs) {
            let d = tok.decode(r.plain)
            if Array(d.utf8) != Array((r.decoded ?? "").utf8) || Array(d.utf8) != Array(t.utf8) { decodeBad.append(JSONText.quote(t)) }
        }
        #expect(decodeBad.isEmpty, "\(decodeBad.prefix(5))")
    }
}
