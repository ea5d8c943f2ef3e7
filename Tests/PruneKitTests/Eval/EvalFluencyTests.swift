import Foundation
import Testing
@testable import PruneEval

@Suite("EvalFluency") struct EvalFluencyTests {
    @Test("words, punctuation runs and Treebank contractions")
    func words() {
        #expect(WordTokenizer.tokenize("I don't know, it's fine... \"Really\"?!") ==
                ["I", "do", "n't", "know", ",", "it", "'s", "fine", "...", "\"", "Really", "\"", "?", "!"])
        #expect(WordTokenizer.tokenize("They'll go; we'd  stay—ok 42") ==
                ["They", "'ll", "go", ";", "we", "'d", "stay", "—", "ok", "42"])
    }

    @Test("n-gram entropy by hand: (2/3 H2 + 4/3 H3) / 2 in bits")
    func entropy() {
        // bigrams (a,b) x2, (b,a) x1: H2 = -(2/3 log2 2/3 + 1/3 log2 1/3); trigrams (a,b,a), (b,a,b): H3 = 1.
        let h2 = -(2.0 / 3 * log2(2.0 / 3) + 1.0 / 3 * log2(1.0 / 3))
        #expect(abs(NGramEntropy.entropy("a b a b") - (2.0 / 3 * h2 + 4.0 / 3) / 2) < 1e-12)
        #expect(NGramEntropy.entropy("same") == 0)
        #expect(abs(NGramEntropy.mean(["a b a b", "same"]) - (2.0 / 3 * h2 + 4.0 / 3) / 4) < 1e-12)
    }

    @Test("generations are prompt + continuation; the prompts are the generation prompts, else the rewrite prompt")
    func generation() throws {
        let m = CharacterModel(table: [:])
        let recs = [CounterFactRecord(caseID: 0, prompt: "{} x", subject: "S", targetNew: "a", targetTrue: "b"),
                    CounterFactRecord(caseID: 1, prompt: "{} y", subject: "S", targetNew: "a", targetTrue: "b",
                                      generationPrompts: ["G1", "G2"])]
        #expect(FluencyEvaluator.prompts(recs) == ["S x", "G1", "G2"])
        let r = try FluencyEvaluator(maxTokens: 3).evaluate(prompts: ["ab"], model: m)
        #expect(r.texts == ["abbbb"])
    }
}
