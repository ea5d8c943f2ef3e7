import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// ROME against the torch reference run of the fixtures (rome-reference.{json,safetensors}, made by
/// fixtures/src/make_refs.py): C, k̄, the gradient at step 0, the loss trace and the final ΔW.
@Suite struct RomeReferenceTests {
    struct Setup: @unchecked Sendable {
        var net: FactModel
        var tokenizer: any FactTokenizer
        var ref: JSONNode
        var tensors: [String: [Float]]
        var stats: KeyStatistics
        var hparams: FactHyperparameters
        var templates: [String]
        var layer: Int
    }

    nonisolated(unsafe) static var setups: [String: Setup] = [:]
    static let lock = NSLock()

    static func setup(_ model: String) throws -> Setup {
        lock.lock(); defer { lock.unlock() }
        if let s = setups[model] { return s }
        let ref = try FactTest.json(try FactTest.fixture(model, "rome-reference.json"))
        let s = try make(network: try FactTest.network(model), tokenizer: try PythonTokenizer(model: try FactTest.fixture(model)),
                         ref: ref, tensors: try FactTest.tensors(try FactTest.fixture(model, "rome-reference.safetensors")),
                         text: try FactTest.fixture(model, "heldout.txt"), maxTokens: 20000)
        setups[model] = s
        return s
    }

    /// The statistics over `text` and the hyperparameters, layer and templates of the reference `ref`.
    static func make(network net: FactModel, tokenizer tok: any FactTokenizer, ref: JSONNode, tensors: [String: [Float]],
                     text path: String, docTokens: Int = 128, maxTokens: Int) throws -> Setup {
        let layer = Int(FactTest.number(ref["layer"]) ?? -1)
        let text = try StatisticsText.load(path: path)
        let stats = try StatisticsComputer(model: net, tokenizer: tok, threads: 2)
            .compute(text: text, layer: layer, modelHash: "test", docTokens: docTokens, maxTokens: maxTokens, maxDocuments: 100_000)
        let ctx = HyperparameterContext(architecture: net.config.architecture,
                                        layerCount: net.config.layerCount, contextLength: net.config.contextLength)
        var h = HyperparameterDefaults.defaults(.rome, context: ctx)
        h = try h.applying(HyperparameterSource(name: "reference", values: ref["hparams"]!), context: ctx)
        h.layers = [layer]
        guard case .array(let ts)? = ref["context_templates"] else { throw FactTest.Failure("no templates") }
        return Setup(net: net, tokenizer: tok, ref: ref, tensors: tensors, stats: stats, hparams: h,
                     templates: ts.compactMap(\.stringValue), layer: layer)
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func secondMomentMatches(model: String) throws {
        let s = try Self.setup(model)
        let c = s.stats.moment.storage.map { Float($0) }
        let err = FactTest.relativeError(c, s.tensors["C"]!)
        #expect(err < 1e-4, "C relative error \(err)")
        #expect(s.stats.count >= 20000 && s.stats.count < 20000 + 128)
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"], 0..<4)
    func requestMatches(model: String, index: Int) throws {
        try Self.check(try Self.setup(model), index: index, what: model)
    }

    /// Request `index` of the reference: target ids, lookup positions, k̄, the gradient at step 0, the
    /// first five losses, and ΔW = Λ uᵀ within cosine 0.99 and norm 2 % (issue 19's bound).
    static func check(_ s: Setup, index: Int, what: String) throws {
        guard case .array(let reqs)? = s.ref["requests"] else { throw FactTest.Failure("no requests") }
        let r = reqs[index]
        let request = FactRequest(prompt: r["prompt"]!.stringValue!, subject: r["subject"]!.stringValue!,
                                  target: r["target_new"]!.stringValue!)
        let rome = Rome(model: s.net, tokenizer: s.tokenizer, hparams: s.hparams, templates: s.templates, threads: 2)
        let c = s.stats.moment
        let edit = try rome.compute(request, layer: s.layer) { k in
            try FactLinearAlgebra.solveSymmetric(c, try Matrix(rows: k.count, cols: 1, values: k)).storage
        }
        #expect(edit.targetIDs.map(Int.init) == FactTest.ints(r["target_ids"]), "\(what): target ids")
        #expect(edit.lookupPositions == FactTest.ints(r["lookup_positions"]), "\(what): lookup positions")
        let kbarErr = FactTest.relativeError(edit.kbar, s.tensors["kbar.\(index)"]!)
        #expect(kbarErr < 1e-4, "\(what): k̄ relative error \(kbarErr)")
        let gErr = FactTest.relativeError(edit.firstGradient, s.tensors["grad0.\(index)"]!)
        #expect(gErr < 1e-3, "\(what): grad0 relative error \(gErr)")
        guard case .array(let steps)? = r["steps"] else { throw FactTest.Failure("no steps") }
        for k in 0..<min(5, steps.count, edit.trace.count) {
            let want = FactTest.number(steps[k]["loss"])!
            let got = edit.trace[k].loss
            #expect(abs(got - want) <= 1e-3 * max(1, abs(want)), "\(what): step \(k): loss \(got) vs \(want)")
        }
        let cosU = FactTest.cosine(edit.u, s.tensors["u.\(index)"]!)
        let lamRef = s.tensors["lam.\(index)"]!
        let cosL = FactTest.cosine(edit.lam, lamRef)
        #expect(cosU * cosL >= 0.99, "\(what): ΔW cosine \(cosU * cosL) (u \(cosU), Λ \(cosL))")
        let ratio = FactTest.norm(edit.lam) / FactTest.norm(lamRef)
        #expect(abs(ratio - 1) <= 0.02, "\(what): ‖ΔW‖ ratio \(ratio)")
    }
}
