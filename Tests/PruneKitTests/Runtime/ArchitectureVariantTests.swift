import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// What the fixtures do not cover, on small random-weights Llamas against an independent numpy
/// float64 forward (Tests/scripts/runtime_llama_reference.py): `llama3` RoPE scaling with a
/// head_dim (24) different from hidden_size / heads (16), GQA 4/2 and an untied head; linear RoPE
/// scaling with tied embeddings. Each as a Hugging Face folder and as a GGUF file (permuted q/k
/// rows; llama3 scaling as llama.cpp's rope_freqs tensor, linear as rope.scaling.* metadata).
@Suite struct ArchitectureVariantTests {
    func check(_ variant: String) throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RuntimeTest.runPython("runtime_llama_reference.py", [dir, variant])
        struct Doc: Decodable { let prompts: [[Int32]] }
        let prompts = try JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/reference.json"))).prompts
        let ref = try SafetensorsFile(path: dir + "/reference.safetensors")
        for path in [dir + "/hf", dir + "/model.gguf"] {
            let m = try LanguageModel.load(path, options: LoadOptions(threads: 2))
            let r = try m.transformer.forward(prompts, logits: .all)
            for i in prompts.indices {
                let info = try #require(ref.info(named: "logits.\(i)"))
                let expected = try ref.withData(for: "logits.\(i)") { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
                let d = RuntimeTest.maxAbsDiff(r.logits(sequence: i).values, expected)
                #expect(d <= 1e-4, "\(variant) \(path): prompt \(i) logits differ by \(d)")
            }
        }
    }

    @Test func llama3ScalingAndHeadDim() throws { try check("llama3") }
    @Test func linearScalingTied() throws { try check("linear") }

    @Test func configurationsAreRead() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RuntimeTest.runPython("runtime_llama_reference.py", [dir, "llama3"])
        let hf = try LanguageModel.load(dir + "/hf").config
        #expect(hf.headDim == 24 && hf.hiddenSize == 64 && hf.headCount == 4 && hf.kvHeadCount == 2 && !hf.tiedEmbeddings)
        #expect(hf.rope == RopeConfig(theta: 500000, dimensions: 24,
                                      scaling: .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 32)))
        let gguf = try LanguageModel.load(dir + "/model.gguf").config
        #expect(gguf.headDim == 24 && gguf.kvHeadCount == 2 && gguf.vocabularySize == 101 && gguf.contextLength == 256)
        guard case .frequencyFactors(let f)? = gguf.rope?.scaling else {
            Issue.record("GGUF llama3 scaling not read from rope_freqs")
            return
        }
        #expect(f.count == 12 && f.first == 1 && f.last == 8)
        // The two routes give the same frequencies (to f32 rounding).
        let a = hf.rope!.inverseFrequencies(), b = gguf.rope!.inverseFrequencies()
        for i in a.indices { #expect(abs(a[i] - b[i]) <= 1e-6 * a[i]) }
    }
}
