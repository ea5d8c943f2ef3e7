import Foundation
import Testing
@testable import PruneFormats
@testable import PruneRuntime

/// Every family of `KnownArchitecture` against transformers (issue 19): random-weight models made by
/// Tests/scripts/arch_make_models.py (numpy; the test regenerates the Hugging Face folder and checks
/// its sha256), with the references of Tests/fixtures/architectures/<family>/reference.json
/// (transformers 5.25 / torch 2.15, f32, eager attention; Tests/scripts/arch_regenerate.sh) and
/// the f16 GGUF llama.cpp's convert_hf_to_gguf.py made of the same weights (exact in f16).
@Suite struct FamilyReferenceTests {
    struct Reference: Decodable {
        struct Prompt: Decodable {
            let ids: [Int32]
            let top_ids: [[Int32]]
            let top_logprobs: [[Float]]
            let greedy: [Int32]
        }
        struct LlamaCpp: Decodable {
            let max_abs_logprob_diff: Float
            let greedy: [[Int32]]
        }
        let model_sha256: String
        let prompts: [Prompt]
        let llama_cpp: LlamaCpp
    }

    static func folder(_ family: String) -> String {
        TestEnvironment.packageRoot.appendingPathComponent("Tests/fixtures/architectures/\(family)").path
    }

    static func reference(_ family: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: folder(family) + "/reference.json")))
    }

    /// log-softmax of one row.
    static func logSoftmax(_ row: ArraySlice<Float>) -> [Float] {
        let m = row.max() ?? 0
        let z = row.reduce(0.0) { $0 + exp(Double($1 - m)) }
        let l = Float(log(z))
        return row.map { $0 - m - l }
    }

    /// The model's top-20 log-probabilities at every position against the reference's, and its
    /// greedy continuation, as long as every step's choice is clear (top two apart by more than
    /// twice the tolerance: a closer pair may swap under another summation order).
    static func check(_ model: LanguageModel, _ ref: Reference, _ what: String, greedy expectedGreedy: [[Int32]]? = nil,
                      compareLogprobs: Bool = true) throws {
        let t = model.transformer
        for (i, p) in ref.prompts.enumerated() {
            let r = try t.forward([p.ids], logits: .all)
            let v = model.config.vocabularySize
            // Log-probabilities add the log-sum-exp's rounding to the logits': twice the forward's bound.
            let tol = 2 * ArithmeticTolerance.forward(model.config, positions: p.ids.count, values: r.logits.values)
            if compareLogprobs {
                var worst: Float = 0
                for pos in 0..<p.ids.count {
                    let lp = logSoftmax(r.logits.values[(pos * v)..<((pos + 1) * v)])
                    for (id, expected) in zip(p.top_ids[pos], p.top_logprobs[pos]) { worst = max(worst, abs(lp[Int(id)] - expected)) }
                }
                #expect(worst <= tol, "\(what): prompt \(i) top-20 log-probabilities differ by \(worst) (tolerance \(tol))")
                #expect(worst <= 1e-3, "\(what): prompt \(i) top-20 log-probabilities differ by \(worst) (issue 19 asks ≤ 1e-3)")
            }
            let expected = expectedGreedy?[i] ?? p.greedy
            let g = try t.generate([p.ids], options: GenerationOptions(maxNewTokens: expected.count, sampling: .greedy, stopTokens: [], topLogprobs: 2))[0]
            for (step, s) in g.steps.enumerated() {
                #expect(s.id == expected[step], "\(what): prompt \(i) greedy step \(step): \(s.id), expected \(expected[step])")
                guard s.top.count == 2, s.top[0].logprob - s.top[1].logprob > 2 * tol else { break }
                if s.id != expected[step] { break }
            }
        }
    }

    /// The Hugging Face folder, regenerated.
    static func huggingFace(_ family: String) throws -> (LanguageModel, String) {
        let dir = try TestEnvironment.tempDir("family-\(family)")
        try TestProcess.python("arch_make_models.py", [dir, family])
        let ref = try reference(family)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(family)/model.safetensors"))
        #expect(SHA256Hasher.hex([UInt8](bytes)) == ref.model_sha256, "\(family): the regenerated weights are not those of the reference")
        return (try LanguageModel.load("\(dir)/\(family)", options: LoadOptions(threads: 2, tokenizer: .skip)), dir)
    }

    @Test(arguments: KnownArchitecture.allCases)
    func huggingFaceFolder(_ family: KnownArchitecture) throws {
        let (model, dir) = try Self.huggingFace(family.rawValue)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(model.config.architecture == family)
        try Self.check(model, try Self.reference(family.rawValue), "\(family) (Hugging Face)")
    }

    /// The GGUF llama.cpp's converter wrote. Where llama.cpp reads the family as transformers does
    /// (its own log-probabilities within 0.05 of transformers'), prune must match transformers; where
    /// llama.cpp's reading differs (its converter drops Mistral's window, it turns Phi-3's window off,
    /// it scales Gemma's queries by 1/√head_dim whatever query_pre_attn_scalar said), prune follows
    /// llama.cpp: its greedy continuations.
    @Test(arguments: KnownArchitecture.allCases)
    func ggufFile(_ family: KnownArchitecture) throws {
        let ref = try Self.reference(family.rawValue)
        let model = try LanguageModel.load(Self.folder(family.rawValue) + "/model-f16.gguf", options: LoadOptions(threads: 2, tokenizer: .skip))
        if ref.llama_cpp.max_abs_logprob_diff <= 0.05 {
            try Self.check(model, ref, "\(family) (GGUF)")
        } else {
            try Self.check(model, ref, "\(family) (GGUF, as llama.cpp reads it)", greedy: ref.llama_cpp.greedy, compareLogprobs: false)
        }
    }
}
