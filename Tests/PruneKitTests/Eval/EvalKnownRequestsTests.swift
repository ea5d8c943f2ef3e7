import Foundation
import Testing
@testable import PruneEval
@testable import PruneFormats

/// `prune-eval --known`: the requests a model knows, checked against the CounterFact scores and the
/// model's greedy next token (two other paths through the model).
@Suite("EvalKnownRequests") struct EvalKnownRequestsTests {
    @Test("known = true target preferred to the new one and its first token among the top K next tokens", arguments: ["gpt2-tiny", "llama-tiny"])
    func verdicts(fixture: String) throws {
        let folder = ReportTest.fixtures + "/" + fixture
        let requests = try ReportTest.fixture(fixture, "requests.json")
        let model = try EvaluationModelLoader.load(folder, threads: 2)
        // The fixture's model knows its world: every other request with its targets swapped is one
        // it does not know (the "true" target is the one it finds unlikely).
        let records = try CounterFactReader.read(requests).enumerated().map { i, r in
            var r = r
            if i % 2 == 1 { swap(&r.targetTrue, &r.targetNew) }
            return r
        }
        let top1 = try KnownRequests(top: 1).evaluate(records, model: model, path: requests)
        let top5 = try KnownRequests(top: 5).evaluate(records, model: model, path: requests)
        let scored = try CounterFactEvaluator().evaluate(records, model: model, path: requests)
        let prompts = try records.map { try model.tokenize($0.rewritePrompt) }
        let greedy = try model.greedyContinuations(prompts, maxTokens: 1)
        #expect(top1.count == records.count && top5.count == records.count)
        for (i, r) in records.enumerated() {
            let first = try model.tokenize(r.rewritePrompt + " " + r.targetTrue)[prompts[i].count]
            let argmax = greedy[i].first == first
            let prefersTrue = scored[i].rewrite.prefersTrue
            #expect((top1[i].rank == 0) == argmax, "\(requests):\(r.line)")
            #expect(top1[i].known == (prefersTrue && argmax), "\(requests):\(r.line)")
            #expect(top5[i].rank == top1[i].rank)
            #expect(top5[i].known == (prefersTrue && top5[i].rank < 5))
            #expect((top1[i].trueScore < top1[i].newScore) == prefersTrue)
        }
        // Both kinds at the loosest setting, so the filter is tested both ways.
        #expect(top5.contains { $0.known } && top5.contains { !$0.known })
        #expect(top1.filter(\.known).count <= top5.filter(\.known).count)
    }

    @Test("prune-eval --known writes the known requests as they were, one a line; refuses to overwrite its input")
    func cli() throws {
        let dir = try ReportTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = ReportTest.fixtures + "/llama-tiny"
        // The fixture's requests, every other one with its targets swapped (a fact the model does not know).
        var all = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try ReportTest.fixture("llama-tiny", "requests.json")))) as! [[String: Any]]
        for i in stride(from: 1, to: all.count, by: 2) {
            var rewrite = all[i]["requested_rewrite"] as! [String: Any]
            (rewrite["target_true"], rewrite["target_new"]) = (rewrite["target_new"], rewrite["target_true"])
            all[i]["requested_rewrite"] = rewrite
        }
        let requests = dir + "/swapped.json"
        try JSONSerialization.data(withJSONObject: all).write(to: URL(fileURLWithPath: requests))
        let out = dir + "/known.jsonl"
        let eval = try ReportTest.binary("prune-eval")
        let r = try ReportTest.run(eval, [folder, "--requests", requests, "--known", out, "--known-top", "5", "--threads", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let model = try EvaluationModelLoader.load(folder, threads: 2)
        let verdicts = try KnownRequests(top: 5).evaluate(try CounterFactReader.read(requests), model: model, path: requests)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        let kept = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let expected = all.enumerated().filter { verdicts[$0.offset].known }.map(\.element)
        #expect(kept.count == expected.count && kept.count > 0 && kept.count < all.count)
        for (a, b) in zip(kept, expected) { #expect(NSDictionary(dictionary: a).isEqual(to: b)) }
        #expect(r.stdout.hasPrefix("\(expected.count) of \(all.count) requests known"))
        // Per relation: the counts of the fixture's relations.
        for relation in Set(all.compactMap { ($0["requested_rewrite"] as? [String: Any])?["relation"] as? String }) {
            let total = all.filter { ($0["requested_rewrite"] as? [String: Any])?["relation"] as? String == relation }.count
            let n = expected.filter { ($0["requested_rewrite"] as? [String: Any])?["relation"] as? String == relation }.count
            #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix("  \(relation) ") && $0.hasSuffix(" \(n)/\(total)") }, "\(r.stdout)")
        }

        let before = try Data(contentsOf: URL(fileURLWithPath: requests))
        let copy = dir + "/requests.json"
        try before.write(to: URL(fileURLWithPath: copy))
        let bad = try ReportTest.run(eval, [folder, "--requests", copy, "--known", copy])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("prune-eval: ") && bad.stderr.contains(copy) && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
        let usage = try ReportTest.run(eval, [folder, "--known", out])
        #expect(usage.status == 64 && usage.stderr.contains("--known needs --requests"), "\(usage.stderr)")
    }
}
