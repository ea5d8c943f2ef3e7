import Foundation
import Testing
@testable import PruneRuntime

/// Hooks, traces, the forward from a layer's residual stream, and replacing weights: the pieces the
/// fact editors build on.
@Suite struct HookTests {
    static func load(_ model: String) throws -> (LanguageModel, RuntimeTest.Reference) {
        (try LanguageModel.load(try RuntimeTest.fixture(model), options: LoadOptions(threads: 2)), try RuntimeTest.Reference(model: model))
    }

    /// y_l = (y_{l-1} + attention_l) + mlp_l exactly, and mlp_l = key_l·W_downᵀ + b (checked with a
    /// plain double loop over the matrix read back).
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func capturedSitesAddUp(model: String) throws {
        let (m, ref) = try Self.load(model)
        let L = 1
        let hooks = ForwardHooks()
        for site in [HookSite.blockOutput(layer: L - 1), .attentionOutput(layer: L), .mlpKey(layer: L), .mlpOutput(layer: L), .blockOutput(layer: L)] {
            hooks.capture(site)
        }
        let picked = [TokenPosition(sequence: 2, position: 4), TokenPosition(sequence: 0, position: 7)]
        hooks.capture(.mlpKey(layer: L), at: picked)
        _ = try m.transformer.forward(ref.ids, logits: .none, hooks: hooks)
        let x = try #require(hooks.captured(.blockOutput(layer: L - 1)))
        let a = try #require(hooks.captured(.attentionOutput(layer: L)))
        let o = try #require(hooks.captured(.mlpOutput(layer: L)))
        let y = try #require(hooks.captured(.blockOutput(layer: L)))
        for i in y.values.indices { #expect(((x.values[i] + a.values[i]) + o.values[i]).bitPattern == y.values[i].bitPattern) }
        let key = try #require(hooks.captured(.mlpKey(layer: L)))
        #expect(key.cols == m.config.ffnSize && key.rows == ref.ids.map(\.count).reduce(0, +))
        let w = try m.weights.values(.mlpDown, layer: L)
        let bias = m.weights.layers[L].downBias
        for r in stride(from: 0, to: key.rows, by: 7) {
            for j in stride(from: 0, to: w.rows, by: 5) {
                var s = 0.0
                for k in 0..<w.cols { s += Double(key[r, k]) * Double(w[j, k]) }
                s += Double(bias?[j] ?? 0)
                #expect(abs(Float(s) - o[r, j]) <= 1e-4)
            }
        }
        let some = try #require(hooks.capturedAll(.mlpKey(layer: L)).last)
        let layout = BatchLayout(lengths: ref.ids.map(\.count))
        #expect(some == key.gathering(rows: picked.map { layout.row(sequence: $0.sequence, position: $0.position)! }))
    }

    /// Adding a vector to the MLP output at one position changes nothing before it (causal, no
    /// leak across the batch), and equals adding it to the residual and running the blocks above
    /// with `forward(residual:fromBlock:)`.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func addedVectorAndForwardFromResidual(model: String) throws {
        let (m, ref) = try Self.load(model)
        let t = m.transformer
        let L = 1, d = m.config.hiddenSize
        let delta = (0..<d).map { Float(sin(Double($0))) * 0.5 }
        let at = [TokenPosition(sequence: 1, position: 5)]
        let plain = try t.forward(ref.ids, logits: .all)
        let hooks = ForwardHooks()
        hooks.capture(.blockOutput(layer: L))
        hooks.add(delta, to: .blockOutput(layer: L), at: at)
        hooks.capture(.blockOutput(layer: L))
        let edited = try t.forward(ref.ids, logits: .all, hooks: hooks)
        for s in ref.ids.indices {
            let a = plain.logits(sequence: s), b = edited.logits(sequence: s)
            let firstChanged = s == 1 ? 5 : ref.ids[s].count
            #expect(RuntimeTest.sameBits(a.rows(0 ..< firstChanged), b.rows(0 ..< firstChanged)), "sequence \(s)")
            if s == 1 { #expect(RuntimeTest.maxAbsDiff(a.rows(5 ..< a.rows).values, b.rows(5 ..< b.rows).values) > 1e-3) }
        }
        // The captures around the addition see the stream without and with it.
        let before = try #require(hooks.capturedAll(.blockOutput(layer: L)).first)
        let after = try #require(hooks.capturedAll(.blockOutput(layer: L)).last)
        let row = edited.layout.row(sequence: 1, position: 5)!
        #expect(after.row(row) == zip(before.row(row), delta).map { $0 + $1 })
        // Rerun the blocks above L from the edited residual stream.
        let above = try t.forward(residual: after, layout: edited.layout, fromBlock: L + 1, logits: .all)
        #expect(RuntimeTest.sameBits(above.logits, edited.logits))
        // Adding at the MLP output instead is the same up to the order of two additions.
        let viaMLP = ForwardHooks()
        viaMLP.add(delta, to: .mlpOutput(layer: L), at: at)
        let mlp = try t.forward(ref.ids, logits: .all, hooks: viaMLP)
        let tolerance = ArithmeticTolerance.forward(m.config, positions: ref.ids.map(\.count).max() ?? 1, values: edited.logits.values)
        #expect(RuntimeTest.maxAbsDiff(mlp.logits.values, edited.logits.values) <= tolerance)
    }

    /// A batch of prompts of different lengths gives the logits of each prompt run alone.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func noPaddingArtifacts(model: String) throws {
        let (m, ref) = try Self.load(model)
        let batch = try m.transformer.forward(ref.ids, logits: .all)
        for (s, ids) in ref.ids.enumerated() {
            let alone = try m.transformer.forward([ids], logits: .all)
            // The products of a batch and of one prompt are blocked differently: the same sums in
            // another order (ArithmeticTolerance).
            let expected = batch.logits(sequence: s).values
            let tolerance = ArithmeticTolerance.forward(m.config, positions: ids.count, values: expected)
            let d = RuntimeTest.maxAbsDiff(alone.logits.values, expected)
            #expect(d <= tolerance, "\(model) prompt \(s): \(d) vs tolerance \(tolerance)")
        }
    }

    /// Traces hold the same values as the hooks, and valid attention weights.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func tracesAgreeWithHooks(model: String) throws {
        let (m, ref) = try Self.load(model)
        let hooks = ForwardHooks()
        hooks.capture(.mlpKey(layer: 2))
        hooks.capture(.blockOutput(layer: 2))
        hooks.capture(.blockOutput(layer: 1))
        let r = try m.transformer.forward(ref.ids, logits: .last, hooks: hooks, trace: [2])
        let tr = try #require(r.traces[2])
        #expect(r.traces.count == 1)
        #expect(tr.mlpKey == hooks.captured(.mlpKey(layer: 2)))
        #expect(tr.output == hooks.captured(.blockOutput(layer: 2)))
        #expect(tr.input == hooks.captured(.blockOutput(layer: 1)))
        #expect(tr.attentionProbabilities.count == ref.ids.count * m.config.headCount)
        for (item, p) in tr.attentionProbabilities.enumerated() {
            let n = ref.ids[item / m.config.headCount].count
            #expect(p.count == n * n)
            for i in 0..<n {
                let row = p[i * n ..< (i + 1) * n]
                #expect(abs(row.reduce(0, +) - 1) <= 1e-5)
                #expect(row.dropFirst(i + 1).allSatisfy { $0 == 0 })
            }
        }
        // runBlock on the traced input reproduces the block.
        let (out, again) = try m.transformer.runBlock(2, input: tr.input, layout: r.layout, trace: true)
        #expect(out == tr.output && again?.mlpKey == tr.mlpKey)
    }

    /// Replacing the down projection by zeros equals setting the MLP output to its bias with a
    /// hook; restoring gives back the original bits.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func replaceAndRestoreWeights(model: String) throws {
        let (m, ref) = try Self.load(model)
        let t = m.transformer
        let L = 2, d = m.config.hiddenSize
        let original = try t.forward(ref.ids, logits: .all)
        let w = try m.weights.values(.mlpDown, layer: L)
        try m.weights.replace(.mlpDown, layer: L, with: FloatMatrix(rows: w.rows, cols: w.cols))
        let zeroed = try t.forward(ref.ids, logits: .all)
        try m.weights.restore(.mlpDown, layer: L)
        #expect(RuntimeTest.sameBits(try t.forward(ref.ids, logits: .all).logits, original.logits))
        let bias = m.weights.layers[L].downBias ?? [Float](repeating: 0, count: d)
        let hooks = ForwardHooks()
        hooks.modify(.mlpOutput(layer: L)) { values, layout in
            for r in 0..<layout.rows { for j in 0..<d { values[r, j] = bias[j] } }
        }
        let hooked = try t.forward(ref.ids, logits: .all, hooks: hooks)
        #expect(RuntimeTest.sameBits(zeroed.logits, hooked.logits))
        // Replacing by the same values gives the same logits (to f32 summation order).
        try m.weights.replace(.mlpDown, layer: L, with: w)
        #expect(RuntimeTest.maxAbsDiff(try t.forward(ref.ids, logits: .all).logits.values, original.logits.values) <= 1e-5)
        #expect(throws: RuntimeError.self) { try m.weights.replace(.mlpDown, layer: L, with: FloatMatrix(rows: 2, cols: 2)) }
        #expect(throws: RuntimeError.self) { try m.weights.values(.mlpDown, layer: 99) }
    }
}
