import Foundation
import Testing
@testable import PruneRuntime

/// The same inputs give the same bits with 1, 2 and 3 threads: logits at every position and the
/// residual stream after every block, for f32 weights used from the mapping and 16-bit or quantized
/// weights kept as stored; and for cached generation (the fused kernels).
@Suite struct DeterminismTests {
    func check(_ model: String, _ file: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let path = try RuntimeTest.fixture(model, file)
        let m = try LanguageModel.load(path, options: LoadOptions(threads: 1))
        let one = try RuntimeTest.run(m, ref.ids)
        for threads in [2, 3] {
            m.transformer.threads = threads
            let other = try RuntimeTest.run(m, ref.ids)
            for i in ref.ids.indices {
                #expect(RuntimeTest.sameBits(one.logits[i], other.logits[i]), "\(model)/\(file): logits of prompt \(i) differ with \(threads) threads")
                for l in one.hidden[i].indices {
                    #expect(RuntimeTest.sameBits(one.hidden[i][l], other.hidden[i][l]), "\(model)/\(file): hidden \(l) of prompt \(i) differs with \(threads) threads")
                }
            }
        }
    }

    @Test func gpt2Safetensors() throws { try check("gpt2-tiny", "model.safetensors") }
    @Test func llamaSafetensors() throws { try check("llama-tiny", "model.safetensors") }
    @Test func gpt2Q4_K_MStreamed() throws { try check("gpt2-tiny", "model-q4_k_m.gguf") }
    @Test func llamaQ8_0Streamed() throws { try check("llama-tiny", "model-q8_0.gguf") }
    @Test func llamaF16() throws { try check("llama-tiny", "model-f16.gguf") }

    @Test func generationIsThreadIndependent() throws {
        for model in RuntimeTest.models {
            let ref = try RuntimeTest.Reference(model: model)
            let m = try LanguageModel.load(try RuntimeTest.fixture(model, "model-q4_k_m.gguf"), options: LoadOptions(threads: 1))
            let options = GenerationOptions(maxNewTokens: 12, topLogprobs: 3)
            let one = try m.transformer.generate(ref.ids, options: options)
            m.transformer.threads = 3
            let three = try m.transformer.generate(ref.ids, options: options)
            for i in one.indices {
                #expect(one[i].ids == three[i].ids)
                #expect(zip(one[i].steps, three[i].steps).allSatisfy { $0.logprob.bitPattern == $1.logprob.bitPattern })
            }
        }
    }
}
