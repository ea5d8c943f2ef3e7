import Foundation
import Testing
@testable import PruneRuntime

/// The editors' forward entry points (`Transformer+Partial`): the run through a layer is the whole
/// forward's blocks (same bits), and a transformer with a replaced matrix shares every other weight
/// with the original, which keeps its own.
@Suite struct PartialForwardTests {
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func runThroughALayerIsTheForwardsPrefix(model name: String) throws {
        let t = try LanguageModel.load(try RuntimeTest.fixture(name), options: LoadOptions(threads: 2, tokenizer: .skip)).transformer
        let prompts: [[Int32]] = [[5, 71, 300, 12, 45, 99], [9, 18, 27]]
        let hooks = ForwardHooks()
        hooks.capture(.blockOutput(layer: 1))
        hooks.capture(.mlpKey(layer: 1))
        let whole = try t.forward(prompts, logits: .none, hooks: hooks, trace: [1])
        let (trace, layout) = try t.run(prompts, through: 1)
        #expect(layout == whole.layout)
        #expect(RuntimeTest.sameBits(trace.output, try #require(hooks.captured(.blockOutput(layer: 1)))))
        #expect(RuntimeTest.sameBits(trace.mlpKey, try #require(hooks.captured(.mlpKey(layer: 1)))))
        #expect(RuntimeTest.sameBits(trace.input, try #require(whole.traces[1]).input))
        #expect(throws: RuntimeError.self) { try t.run(prompts, through: t.config.layerCount) }
    }

    @Test func replacingAMatrixSharesTheOthers() throws {
        let t = try LanguageModel.load(try RuntimeTest.fixture("llama-tiny"), options: LoadOptions(threads: 2, tokenizer: .skip)).transformer
        let before = try t.weights.values(.mlpDown, layer: 2)
        var changed = before
        changed.values[0] += 1
        let edited = try t.replacing([(role: .mlpDown, layer: 2, values: changed)])
        #expect(try edited.weights.values(.mlpDown, layer: 2) == changed)
        #expect(try t.weights.values(.mlpDown, layer: 2) == before)
        #expect(edited.weights.layers[2].up === t.weights.layers[2].up)
        #expect(edited.weights.layers[1].down === t.weights.layers[1].down)
        #expect(edited.weights.tokenEmbedding === t.weights.tokenEmbedding)
        let ids: [[Int32]] = [[1, 2, 3, 4]]
        #expect(try edited.forward(ids).logits != t.forward(ids).logits)
        #expect(throws: RuntimeError.self) { try t.replacing([(role: .mlpDown, layer: 2, values: FloatMatrix(rows: 1, cols: 1))]) }
    }
}
