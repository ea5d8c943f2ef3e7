import Foundation
import Testing
@testable import PruneEval

@Suite("EvalCounterFactMetrics") struct EvalCounterFactMetricsTests {
    // ' ' and 'x' cost 1 nat, 'y' 3 nats; after a "!" in the context 'x' costs 3 and 'y' 1.
    let model = CharacterModel(table: [" ": -1, "x": -1, "y": -3], flipped: [" ": -1, "x": -3, "y": -1])

    @Test("a candidate's tokens are those of prompt + \" \" + candidate after the prompt's; score is their mean NLL")
    func candidateScore() throws {
        var scoring = CandidateScoring(model: model)
        let item = try #require(try scoring.item(prompt: "ab", candidate: "yy"))
        #expect(item.context == [97, 98])
        #expect(item.continuation == [32, 121, 121])
        let lp = try model.continuationLogProbabilities([item])[0]
        // (1 + 3 + 3) / 3 by hand.
        #expect(abs(CandidateScoring.score(lp) - 7.0 / 3.0) < 1e-12)
    }

    @Test("with BOS the context keeps it; a candidate that adds no token is refused")
    func bosAndEmpty() throws {
        let m = CharacterModel(bos: true, table: [:])
        var scoring = CandidateScoring(model: m)
        let item = try #require(try scoring.item(prompt: "a", candidate: "b"))
        #expect(item.context == [1, 97])
        #expect(item.continuation == [32, 98])
        #expect(try scoring.item(prompt: "a", candidate: "b", separator: "") != nil)
        #expect(try scoring.item(prompt: "a", candidate: "", separator: "") == nil)
    }

    @Test("per-request success and magnitude follow ROME's summarize.py, computed by hand")
    func requestMetrics() throws {
        // new "x" (score 1), true "y" (score 2) on a plain prompt: the new target wins;
        // after "!" the scores are new 2, true 1: the true target wins.
        let record = CounterFactRecord(caseID: 7, prompt: "{} is", subject: "S", targetNew: "x", targetTrue: "y",
                                       paraphrasePrompts: ["S a", "S!"], neighborhoodPrompts: ["T!", "U", "V!"])
        let rows = try CounterFactEvaluator().evaluate([record], model: model)
        let r = try #require(rows.first)
        #expect(r.caseID == 7)
        #expect(r.rewrite.new == 1 && r.rewrite.true == 2)
        #expect(r.efficacySuccess == 1)
        let e1 = exp(-1.0), e2 = exp(-2.0)
        #expect(abs(r.efficacyMagnitude - (e1 - e2)) < 1e-15)
        #expect(r.paraphraseSuccess == 0.5)
        #expect(abs(r.paraphraseMagnitude! - ((e1 - e2) + (e2 - e1)) / 2) < 1e-15)
        // Neighborhood success: true more probable, on "T!" and "V!" only.
        #expect(abs(r.neighborhoodSuccess! - 2.0 / 3.0) < 1e-15)
        #expect(abs(r.neighborhoodMagnitude! - ((e1 - e2) * 2 + (e2 - e1)) / 3) < 1e-15)
        // One batched call for the whole request: 6 prompts x 2 candidates.
        #expect(model.calls.count == 1 && model.calls[0].count == 12)
    }

    @Test("averages are over requests that have the prompts; Score is the harmonic mean (0 when one rate is 0)")
    func summary() throws {
        let a = CounterFactRecord(caseID: 0, prompt: "{}", subject: "S", targetNew: "x", targetTrue: "y",
                                  paraphrasePrompts: ["P"], neighborhoodPrompts: ["N!"])
        let b = CounterFactRecord(caseID: 1, prompt: "{}!", subject: "S", targetNew: "x", targetTrue: "y",
                                  paraphrasePrompts: [], neighborhoodPrompts: ["M"])
        let rows = try CounterFactEvaluator(chunkSize: 1).evaluate([a, b], model: model)
        let s = CounterFactSummary(rows)
        #expect(s.count == 2)
        #expect(s.efficacySuccess == 0.5)
        #expect(s.paraphraseSuccess == 1)     // only a has paraphrases
        #expect(s.neighborhoodSuccess == 0.5)
        #expect(abs(s.score! - 3 / (1 / 0.5 + 1 / 1.0 + 1 / 0.5)) < 1e-15)
        #expect(CounterFactSummary.harmonicMean([0.9, 0, 1]) == 0)
        #expect(model.calls.count == 2)
    }
}
