import Foundation
import Testing
@testable import PruneEval
@testable import PruneRuntime

@Suite("EvalRuntimeScorer") struct EvalRuntimeScorerTests {
    /// The log-probabilities of one item from a forward pass over the whole text, without a cache.
    static func direct(_ t: Transformer, _ item: ContinuationItem) throws -> [Double] {
        let full = (item.context + item.continuation).map { Int32($0) }
        let r = try t.forward([full], logits: .all)
        return item.continuation.indices.map { j in
            PrefixSharingScorer.logProbability(r.logits, row: item.context.count - 1 + j, token: item.continuation[j])
        }
    }

    @Test("shared contexts through the KV cache give the log-probabilities of whole-text forwards", arguments: ["gpt2-tiny", "llama-tiny"])
    func sharedPrefixes(fixture: String) throws {
        let model = try LanguageModel.load(try ReportTest.fixture(fixture, "model.safetensors"), options: LoadOptions(threads: 2))
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try ReportTest.fixture(fixture, "forward-reference.json")))) as! [String: Any]
        let prompts = (ref["prompts"] as! [[String: Any]]).map { ($0["ids"] as! [Int]) + ($0["greedy_ids"] as! [Int]) }
        var items: [ContinuationItem] = []
        for ids in prompts.prefix(4) {
            let k = min(6, ids.count - 4)
            // Several continuations of one context (one, two and three tokens), and another context.
            items.append(ContinuationItem(context: Array(ids[..<k]), continuation: [ids[k]]))
            items.append(ContinuationItem(context: Array(ids[..<k]), continuation: Array(ids[k..<(k + 3)])))
            items.append(ContinuationItem(context: Array(ids[..<k]), continuation: [ids[k + 1], ids[k]]))
            items.append(ContinuationItem(context: Array(ids[..<(k + 1)]), continuation: Array(ids[(k + 1)..<(k + 3)])))
        }
        let scorer = PrefixSharingScorer(transformer: model.transformer, maxBatchTokens: 20)
        let got = try scorer.logProbabilities(items)
        var worst = 0.0
        for (item, g) in zip(items, got) {
            let want = try Self.direct(model.transformer, item)
            #expect(g.count == want.count)
            for (a, b) in zip(g, want) { worst = max(worst, abs(a - b)) }
        }
        #expect(worst < 1e-4, "largest difference \(worst)")
        // One pass for everything agrees too; the bits do not depend on the thread count.
        let whole = try PrefixSharingScorer(transformer: model.transformer, maxBatchTokens: 1 << 20).logProbabilities(items)
        #expect(zip(whole, got).allSatisfy { zip($0, $1).allSatisfy { abs($0 - $1) < 1e-4 } })
        model.transformer.threads = 1
        #expect(try scorer.logProbabilities(items) == got)
    }
}
