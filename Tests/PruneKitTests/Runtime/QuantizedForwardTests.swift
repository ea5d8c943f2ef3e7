import Foundation
import Testing
@testable import PruneRuntime

/// f16 and quantized GGUFs of both fixtures: the runtime's logits and hidden states must match its
/// f32 path on gguf-py's dequantization of the same file (Tests/scripts/runtime_gguf_tools.py), with
/// the weights kept as stored (decoded a tile of rows at a time, or read by the fused kernels).
@Suite struct QuantizedForwardTests {
    func check(_ model: String, _ file: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let quantized = try RuntimeTest.fixture(model, file)
        let f32 = dir + "/dequantized.gguf"
        try RuntimeTest.runPython("runtime_gguf_tools.py", ["dequantize", quantized, f32])
        let reference = try RuntimeTest.run(try LanguageModel.load(f32, options: LoadOptions(threads: 2)), ref.ids)
        let decoded = try LanguageModel.load(quantized, options: LoadOptions(threads: 2))
        #expect(decoded.weights.layers.allSatisfy { $0.matrices.allSatisfy(\.needsDecoding) }, "the model keeps its weights as stored")
        let a = try RuntimeTest.run(decoded, ref.ids)
        for i in ref.ids.indices {
            // The same weights (the decoded blocks are exact), the products in other shapes: the
            // sums in another order (ArithmeticTolerance).
            let n = ref.ids[i].count
            let tolerance = ArithmeticTolerance.forward(decoded.config, positions: n, values: reference.logits[i].values)
            let d = RuntimeTest.maxAbsDiff(a.logits[i].values, reference.logits[i].values)
            #expect(d <= tolerance, "\(model)/\(file) prompt \(i): logits differ from the dequantized f32 run by \(d), tolerance \(tolerance)")
            for l in a.hidden[i].indices {
                let h = reference.hidden[i][l].values
                let blocks = l == decoded.config.layerCount ? l + 1 : l
                let th = ArithmeticTolerance.forward(decoded.config, positions: n, values: h, blocks: blocks)
                let dh = RuntimeTest.maxAbsDiff(a.hidden[i][l].values, h)
                #expect(dh <= th, "\(model)/\(file) prompt \(i) hidden \(l): differs by \(dh), tolerance \(th)")
            }
        }
    }

    @Test func gpt2F16() throws { try check("gpt2-tiny", "model-f16.gguf") }
    @Test func gpt2Q8_0() throws { try check("gpt2-tiny", "model-q8_0.gguf") }
    @Test func gpt2Q4_K_M() throws { try check("gpt2-tiny", "model-q4_k_m.gguf") }
    @Test func llamaF16() throws { try check("llama-tiny", "model-f16.gguf") }
    @Test func llamaQ8_0() throws { try check("llama-tiny", "model-q8_0.gguf") }
    @Test func llamaQ4_K_M() throws { try check("llama-tiny", "model-q4_k_m.gguf") }
}
