import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// The forward pass against transformers' f32 reference values (forward-reference.*) on both
/// fixtures: logits at every position and the residual stream after the embedding and every block,
/// for six prompts run as one batch of different lengths. Logits within 1e-4 absolute; hidden states
/// (which reach ±570 in llama-tiny, where an f32 ulp is 6e-5) within 1e-4 + 1e-6·|reference|.
@Suite struct ForwardReferenceTests {
    func check(_ model: String, file: String, tolerance: Float = 1e-4) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let m = try LanguageModel.load(try RuntimeTest.fixture(model, file), options: LoadOptions(threads: 2))
        let run = try RuntimeTest.run(m, ref.ids)
        for i in ref.prompts.indices {
            let expected = try ref.logits(i)
            #expect(run.logits[i].rows == expected.rows && run.logits[i].cols == expected.cols)
            let d = RuntimeTest.maxAbsDiff(run.logits[i].values, expected.values)
            #expect(d <= tolerance, "\(model)/\(file) prompt \(i): logits differ by \(d)")
            for l in 0...m.config.layerCount {
                let h = try ref.hidden(i, l)
                let dh = RuntimeTest.excess(run.hidden[i][l].values, h.values, rtol: 1e-6)
                #expect(dh <= tolerance, "\(model)/\(file) prompt \(i) hidden \(l): differs by \(dh)")
            }
        }
    }

    @Test func gpt2Safetensors() throws { try check("gpt2-tiny", file: "") }
    @Test func llamaSafetensors() throws { try check("llama-tiny", file: "") }
    @Test func gpt2GGUF() throws { try check("gpt2-tiny", file: "model-f32.gguf") }
    @Test func llamaGGUF() throws { try check("llama-tiny", file: "model-f32.gguf") }
}
