import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit
@testable import PruneRuntime
@testable import PruneTokenizers

/// Single ROME edits on the first 20 requests of each fixture's requests.json, scored as the
/// fixtures' reference does (rome_ref.evaluate: the new target must beat the true one by mean NLL
/// on the prompt and its paraphrases; neighbours must keep preferring the true one), with the
/// reference's hyperparameters; the scores must reach the torch reference's (fixtures README).
@Suite struct RomeEfficacyTests {
    /// (efficacy, paraphrase, neighborhood) of the reference ROME, from the fixtures README.
    static let reference: [String: (Double, Double, Double)] = [
        "gpt2-tiny": (0.75, 0.525, 0.79),
        "llama-tiny": (0.40, 0.35, 1.00),
    ]

    static func score(_ net: FactModel, _ tok: FactTokenizer, _ prompt: String, _ cand: String) throws -> Double {
        let ids = tok.encode(prompt + " " + cand)
        let pre = tok.encode(prompt).count
        let n = ids.count
        guard n > pre else { return .infinity }
        let positions = Array((pre - 1)..<(n - 1))
        let logits = try net.transformer.forward([ids], logits: .positions(positions.map { TokenPosition(sequence: 0, position: $0) })).logits.values
        var total = 0.0
        for (r, p) in positions.enumerated() {
            total -= TargetObjective.logSoftmax(logits, r, net.config.vocabularySize)[Int(ids[p + 1])]
        }
        return total / Double(positions.count)
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func efficacyReachesTheReference(model: String) throws {
        let net = try FactTest.network(model)
        let tok = RuntimeTokenizer(try TokenizerLoader.load(path: try FactTest.fixture(model)))
        let ref = try FactTest.json(try FactTest.fixture(model, "rome-reference.json"))
        let layer = Int(FactTest.number(ref["layer"])!)
        let text = try StatisticsText.load(path: try FactTest.fixture(model, "heldout.txt"))
        let c = try StatisticsComputer(model: net, tokenizer: tok, threads: 2)
            .compute(text: text, layer: layer, modelHash: "test", docTokens: 128, maxTokens: 20000, maxDocuments: 100_000).moment
        let ctx = HyperparameterContext(architecture: net.config.architecture,
                                        layerCount: net.config.layerCount, contextLength: net.config.contextLength)
        var h = try HyperparameterDefaults.defaults(.rome, context: ctx)
            .applying(HyperparameterSource(name: "reference", values: ref["hparams"]!), context: ctx)
        h.layers = [layer]
        guard case .array(let ts)? = ref["context_templates"] else { throw FactTest.Failure("no templates") }
        let templates = ts.compactMap(\.stringValue)
        let reqs = try FactTest.json(try FactTest.fixture(model, "requests.json"))
        guard case .array(let all) = reqs else { throw FactTest.Failure("no requests") }
        var eff = 0.0, para = 0.0, nb = 0.0, nbCount = 0
        let n = 20
        for q in all.prefix(n) {
            let rw = q["requested_rewrite"]!
            let r = FactRequest(prompt: rw["prompt"]!.stringValue!, subject: rw["subject"]!.stringValue!,
                                target: rw["target_new"]!["str"]!.stringValue!)
            let truth = rw["target_true"]!["str"]!.stringValue!
            let edit = try Rome(model: net, tokenizer: tok, hparams: h, templates: templates, threads: 2)
                .compute(r, layer: layer) { k in try FactLinearAlgebra.solveSymmetric(c, try Matrix(rows: k.count, cols: 1, values: k)).storage }
            var w = try net.down(layer)
            let m = net.config.ffnSize
            for i in 0..<net.config.hiddenSize { for j in 0..<m { w[i * m + j] += edit.lam[i] * edit.u[j] } }
            let edited = try net.settingDown(layer, w)
            let p = r.filledPrompt
            eff += try Self.score(edited, tok, p, truth) > Self.score(edited, tok, p, r.target) ? 1 : 0
            guard case .array(let ps)? = q["paraphrase_prompts"], case .array(let ns)? = q["neighborhood_prompts"] else { continue }
            let pv = try ps.compactMap(\.stringValue).map { try Self.score(edited, tok, $0, truth) > Self.score(edited, tok, $0, r.target) ? 1.0 : 0 }
            para += pv.reduce(0, +) / Double(max(pv.count, 1))
            let nv = try ns.compactMap(\.stringValue).map { try Self.score(edited, tok, $0, truth) < Self.score(edited, tok, $0, r.target) ? 1.0 : 0 }
            if !nv.isEmpty { nb += nv.reduce(0, +) / Double(nv.count); nbCount += 1 }
        }
        let (e0, p0, n0) = Self.reference[model]!
        let e = eff / Double(n), pa = para / Double(n), ne = nb / Double(max(nbCount, 1))
        #expect(e >= e0 - 1e-9, "efficacy \(e) < reference \(e0)")
        #expect(pa >= p0 - 1e-9, "paraphrase \(pa) < reference \(p0)")
        #expect(ne >= n0 - 1e-9, "neighborhood \(ne) < reference \(n0)")
    }
}
