import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// The forward pass against transformers' f32 reference values (forward-reference.*) on both
/// fixtures: logits at every position and the residual stream after the embedding and every block,
/// for six prompts run as one batch of different lengths. torch and prune compute the same sums in
/// other orders, so the values agree within `ArithmeticTolerance` (the stream after block l has
/// been through 2l+1 stages; the stream in llama-tiny reaches ±570, which sets its scale).
@Suite struct ForwardReferenceTests {
    func check(_ model: String, file: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let m = try LanguageModel.load(try RuntimeTest.fixture(model, file), options: LoadOptions(threads: 2))
        let run = try RuntimeTest.run(m, ref.ids)
        for i in ref.prompts.indices {
            let expected = try ref.logits(i)
            let n = ref.ids[i].count
            #expect(run.logits[i].rows == expected.rows && run.logits[i].cols == expected.cols)
            let tolerance = ArithmeticTolerance.forward(m.config, positions: n, values: expected.values)
            let d = RuntimeTest.maxAbsDiff(run.logits[i].values, expected.values)
            #expect(d <= tolerance, "\(model)/\(file) prompt \(i): logits differ by \(d), tolerance \(tolerance)")
            for l in 0...m.config.layerCount {
                let h = try ref.hidden(i, l)
                // The last one has the final norm applied: one more stage.
                let blocks = l == m.config.layerCount ? l + 1 : l
                let th = ArithmeticTolerance.forward(m.config, positions: n, values: h.values, blocks: blocks)
                let dh = RuntimeTest.maxAbsDiff(run.hidden[i][l].values, h.values)
                #expect(dh <= th, "\(model)/\(file) prompt \(i) hidden \(l): differs by \(dh), tolerance \(th)")
            }
        }
    }

    @Test func gpt2Safetensors() throws { try check("gpt2-tiny", file: "") }
    @Test func llamaSafetensors() throws { try check("llama-tiny", file: "") }
    @Test func gpt2GGUF() throws { try check("gpt2-tiny", file: "model-f32.gguf") }
    @Test func llamaGGUF() throws { try check("llama-tiny", file: "model-f32.gguf") }
}
