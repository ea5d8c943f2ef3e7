import Foundation
import Testing
@testable import PruneEval

@Suite("EvalPerplexity") struct EvalPerplexityTests {
    @Test("every token after the first is predicted; documents are truncated to N tokens, BOS included")
    func byHand() throws {
        let m = CharacterModel(bos: true, table: ["a": -1, "b": -2], fallback: -4)
        let docs = TextDocuments.split("ab\n   \n\nba b\r\nz\n")
        #expect(docs.map(\.text) == ["ab", "ba b", "z"])
        #expect(docs.map(\.line) == [1, 4, 5])
        let ppl = PerplexityEvaluator(maxTokens: 4, chunkSize: 2)
        let tokens = try ppl.tokenize(docs, model: m)
        #expect(tokens[1] == [1, 98, 97, 32])   // BOS b a ' ' (truncated to 4)
        let r = try ppl.evaluate(tokenized: tokens, model: m)
        // "ab": a, b = 1 + 2; "ba ": b, a, ' ' = 2 + 1 + 4; "z": z = 4.
        #expect(r.tokens == 6)
        #expect(abs(r.totalNLL - 14) < 1e-12)
        #expect(abs(r.perplexity - exp(14.0 / 6.0)) < 1e-12)
    }

    @Test("without BOS a one-token document predicts nothing")
    func noBOS() throws {
        let m = CharacterModel(table: [:], fallback: -log(8))
        let ppl = PerplexityEvaluator(maxTokens: 128)
        let r = try ppl.evaluate(tokenized: try ppl.tokenize(TextDocuments.split("q\nabcd"), model: m), model: m)
        #expect(r.documents == 2 && r.tokens == 3)
        #expect(abs(r.perplexity - 8) < 1e-12)
    }
}
