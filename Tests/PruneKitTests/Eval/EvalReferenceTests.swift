import Foundation
import Testing
@testable import PruneEval

/// prune-eval's metrics against an independent computation: Tests/scripts/eval_reference.py
/// (transformers + torch, f32), run outside CI, its output checked in under Resources/eval/.
@Suite("EvalReference") struct EvalReferenceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var fixture: String
        var edited: Bool
        var testDescription: String { fixture + (edited ? " edited" : "") }
    }

    static let cases = [Case(fixture: "gpt2-tiny", edited: false), Case(fixture: "gpt2-tiny", edited: true),
                        Case(fixture: "llama-tiny", edited: false), Case(fixture: "llama-tiny", edited: true)]

    @Test("CounterFact scores and metrics, perplexity (1e-3 relative), task accuracy (exact), greedy texts", arguments: cases)
    func matchesTorch(c: Case) throws {
        let ref = try EvalTest.json(EvalTest.resources + "/\(c.fixture)\(c.edited ? "-edited" : "").json")
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = c.edited ? try EvalTest.editedFixture(c.fixture, in: dir) : ReportTest.fixtures + "/" + c.fixture
        let task = ReportTest.packageRoot.appendingPathComponent("samples/tasks/\(c.fixture)-facts.jsonl").path
        var options = EvaluationOptions()
        options.requests = try ReportTest.fixture(c.fixture, "requests.json")
        options.perplexity = try ReportTest.fixture(c.fixture, "heldout.txt")
        options.tasks = [task]
        var inputs = try EvaluationInputs.load(options)
        inputs.records = Array(inputs.records.prefix(20))
        let model = try EvaluationModelLoader.load(path, threads: 2)
        let e = try Evaluator(inputs: inputs).evaluate(model, name: path)

        // Scores prompt by prompt.
        let rows = ref["rows"] as! [[String: Any]]
        #expect(e.requests.count == rows.count)
        var worst = 0.0, nearTies = 0
        func compare(_ p: PromptScores, _ r: [String: Any], neighborhood: Bool) {
            let new = r["target_new"] as! Double, tru = r["target_true"] as! Double
            #expect(p.prompt == r["prompt"] as! String)
            worst = max(worst, abs(p.new - new), abs(p.true - tru))
            if abs(new - tru) < 1e-3 { nearTies += 1; return }
            #expect((neighborhood ? p.prefersTrue : p.prefersNew) == (neighborhood ? tru < new : tru > new))
        }
        for (got, want) in zip(e.requests, rows) {
            #expect(got.caseID == want["case_id"] as! Int)
            compare(got.rewrite, want["rewrite"] as! [String: Any], neighborhood: false)
            for (p, r) in zip(got.paraphrase, want["paraphrase"] as! [[String: Any]]) { compare(p, r, neighborhood: false) }
            for (p, r) in zip(got.neighborhood, want["neighborhood"] as! [[String: Any]]) { compare(p, r, neighborhood: true) }
        }
        #expect(worst < 2e-4, "largest score difference \(worst)")
        #expect(nearTies == 0)
        // Averages and Score as summarize.py.
        let avg = ref["averages"] as! [String: Double]
        let s = try #require(e.summary)
        let mine: [String: Double?] = ["efficacy_success": s.efficacySuccess, "paraphrase_success": s.paraphraseSuccess,
                                       "neighborhood_success": s.neighborhoodSuccess, "score": s.score,
                                       "efficacy_magnitude": s.efficacyMagnitude, "paraphrase_magnitude": s.paraphraseMagnitude,
                                       "neighborhood_magnitude": s.neighborhoodMagnitude]
        for (k, v) in mine {
            let want = try #require(avg[k])
            let got = try #require(v)
            let tolerance = k.hasSuffix("magnitude") ? 1e-5 : 1e-12
            #expect(abs(got - want) <= tolerance, "\(k): \(got) vs \(want)")
        }

        // Perplexity.
        let ppl = ref["perplexity"] as! [String: Any]
        let p = try #require(e.perplexity)
        #expect(p.documents == ppl["documents"] as! Int)
        #expect(p.tokens == ppl["tokens"] as! Int)
        let want = ppl["perplexity"] as! Double
        #expect(abs(p.perplexity - want) / want < 1e-3, "perplexity \(p.perplexity) vs \(want)")

        // Multiple choice: the same pick on every question.
        let mc = ref["task"] as! [String: Any]
        let t = try #require(e.tasks.first)
        #expect(t.questions == mc["questions"] as! Int)
        #expect(t.picks == mc["picks"] as! [Int])
        #expect(t.picksNormalized == mc["picks_norm"] as! [Int])
        #expect(abs(t.accuracy - (mc["accuracy"] as! Double)) < 1e-12)
        #expect(abs(t.accuracyNormalized - (mc["accuracy_norm"] as! Double)) < 1e-12)

        // Greedy continuations of the first five rewrite prompts.
        let gens = ref["generations"] as! [[String: Any]]
        let prompts = inputs.records.prefix(5).map(\.rewritePrompt)
        let ids = try prompts.map { try model.tokenize($0) }
        #expect(ids == gens.map { $0["prompt_ids"] as! [Int] })
        let out = try model.greedyContinuations(ids, maxTokens: 24)
        #expect(out == gens.map { $0["ids"] as! [Int] })
        #expect(try zip(ids, out).map { try model.detokenize($0 + $1) } == gens.map { $0["text"] as! String })
    }
}
