import Foundation
import Testing
@testable import PruneRuntime

/// Greedy generation with the KV cache against transformers' recorded continuations, batched
/// generation against one prompt at a time, and cached logits against the full forward.
@Suite struct GenerationTests {
    @Test(arguments: ["gpt2-tiny", "llama-tiny"], ["model.safetensors", "model-f32.gguf"])
    func greedyContinuationsMatchTransformers(model: String, file: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let m = try LanguageModel.load(try RuntimeTest.fixture(model, file), options: LoadOptions(threads: 2))
        let out = try m.transformer.generate(ref.ids, options: GenerationOptions(maxNewTokens: 20))
        for (i, p) in ref.prompts.enumerated() {
            #expect(out[i].ids == p.greedy_ids, "\(model)/\(file) prompt \(i)")
            #expect(out[i].prompt == p.ids)
        }
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func batchedGenerationEqualsOneByOne(model: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let m = try LanguageModel.load(try RuntimeTest.fixture(model, "model.safetensors"), options: LoadOptions(threads: 2))
        let options = GenerationOptions(maxNewTokens: 15, stopTokens: [])
        let batch = try m.transformer.generate(ref.ids, options: options)
        for (i, ids) in ref.ids.enumerated() {
            let single = try m.transformer.generate([ids], options: options)[0]
            #expect(single.ids == batch[i].ids, "\(model) prompt \(i)")
            #expect(single.steps.count == 15 && !single.stopped)
            // A log-probability is a logit minus a log-sum-exp: its error is that of the logits
            // (scale: the largest |log-probability|, at least the logits' own error).
            for (a, b) in zip(single.steps, batch[i].steps) {
                let tolerance = 2 * ArithmeticTolerance.forward(m.config, positions: single.ids.count + 15,
                                                                values: [b.logprob, 1 + abs(b.logprob)])
                #expect(abs(a.logprob - b.logprob) <= tolerance, "\(model) prompt \(i): \(a.logprob) vs \(b.logprob)")
            }
        }
    }

    /// Feeding a prompt through the cache in pieces gives the logits of the full forward.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func cachedLogitsMatchTheFullForward(model: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let m = try LanguageModel.load(try RuntimeTest.fixture(model, "model.safetensors"), options: LoadOptions(threads: 2))
        let t = m.transformer
        let full = try t.forward(ref.ids, logits: .all)
        let caches = ref.ids.map { _ in KVCache(config: m.config, capacity: 4) }   // grows on demand
        // First a prefix of each prompt (different lengths), then one token at a time.
        let prefix = ref.ids.map { max(1, $0.count / 2) }
        let first = try t.forward(zip(ref.ids, prefix).map { Array($0.prefix($1)) }, caches: caches, logits: .all)
        for (s, ids) in ref.ids.enumerated() {
            let expected = full.logits(sequence: s)
            let got = first.logits(sequence: s)
            // The cache changes the shapes of the products, hence the order of their sums.
            let tolerance = ArithmeticTolerance.forward(m.config, positions: ids.count, values: expected.values)
            let d = RuntimeTest.maxAbsDiff(got.values, expected.rows(0 ..< prefix[s]).values)
            #expect(d <= tolerance, "\(model) prompt \(s): \(d) vs tolerance \(tolerance)")
            #expect(caches[s].length == prefix[s])
            for p in prefix[s] ..< ids.count {
                let step = try t.forward([[ids[p]]], caches: [caches[s]], logits: .last)
                #expect(step.logitPositions == [TokenPosition(sequence: 0, position: p)])
                #expect(RuntimeTest.maxAbsDiff(step.logits.values, expected.row(p)) <= tolerance, "\(model) prompt \(s) position \(p)")
            }
            #expect(caches[s].length == ids.count)
        }
    }

    @Test func logitsOnlyWhereAsked() throws {
        let ref = try RuntimeTest.Reference(model: "llama-tiny")
        let m = try LanguageModel.load(try RuntimeTest.fixture("llama-tiny", "model.safetensors"), options: LoadOptions(threads: 2))
        let all = try m.transformer.forward(ref.ids, logits: .all)
        let last = try m.transformer.forward(ref.ids, logits: .last)
        let none = try m.transformer.forward(ref.ids, logits: .none)
        let picked = [TokenPosition(sequence: 4, position: 3), TokenPosition(sequence: 0, position: 0)]
        let some = try m.transformer.forward(ref.ids, logits: .positions(picked))
        #expect(none.logits.rows == 0 && none.logitPositions.isEmpty)
        #expect(last.logits.rows == ref.ids.count)
        #expect(some.logits.rows == 2 && some.logitPositions == picked)
        // Fewer logit rows make the head's product another shape: the same sums in another order.
        let tolerance = ArithmeticTolerance.forward(m.config, positions: ref.ids.map(\.count).max() ?? 1, values: all.logits.values)
        for (s, ids) in ref.ids.enumerated() {
            #expect(RuntimeTest.maxAbsDiff(last.logits.row(s), all.logits(sequence: s).row(ids.count - 1)) <= tolerance)
        }
        #expect(RuntimeTest.maxAbsDiff(some.logits.row(0), all.logits(sequence: 4).row(3)) <= tolerance)
        #expect(RuntimeTest.maxAbsDiff(some.logits.row(1), all.logits(sequence: 0).row(0)) <= tolerance)
        #expect(throws: RuntimeError.self) { try m.transformer.forward(ref.ids, logits: .positions([TokenPosition(sequence: 0, position: 99)])) }
    }

    @Test func seededSamplingIsReproducible() throws {
        let ref = try RuntimeTest.Reference(model: "gpt2-tiny")
        let m = try LanguageModel.load(try RuntimeTest.fixture("gpt2-tiny", "model.safetensors"), options: LoadOptions(threads: 2))
        let o = GenerationOptions(maxNewTokens: 10, sampling: .temperature(1.0, topK: 40, seed: 7), topLogprobs: 5)
        let a = try m.transformer.generate(ref.ids, options: o)
        let b = try m.transformer.generate(ref.ids, options: o)
        #expect(a == b)
        var c = o
        c.sampling = .temperature(1.0, topK: 40, seed: 8)
        #expect(try m.transformer.generate(ref.ids, options: c).map(\.ids) != a.map(\.ids))
        for g in a { for s in g.steps { #expect(s.top.count == 5 && s.top[0].logprob >= s.logprob && s.logprob <= 0) } }
    }
}

/// The model with its tokenizer: the prompts' text gives the reference ids, and generating from
/// text gives the recorded continuations.
@Suite struct LanguageModelTextTests {
    @Test(arguments: ["gpt2-tiny", "llama-tiny"], ["", "model-q8_0.gguf"])
    func textInTextOut(model: String, file: String) throws {
        let ref = try RuntimeTest.Reference(model: model)
        let m = try LanguageModel.load(try RuntimeTest.fixture(model, file), options: LoadOptions(threads: 2, tokenizer: .required))
        for p in ref.prompts { #expect(try m.encode(p.text) == p.ids, "\(model)/\(file): \(p.text)") }
        if file.isEmpty {
            let out = try m.generate(ref.prompts.map(\.text), options: GenerationOptions(maxNewTokens: 20))
            #expect(out.map(\.ids) == ref.prompts.map(\.greedy_ids))
        }
        #expect(!m.stopTokens.isEmpty)
    }

    @Test func modelWithoutTokenizer() throws {
        let dir = try RuntimeTest.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: try RuntimeTest.fixture("gpt2-tiny", f), toPath: dir + "/" + f)
        }
        let m = try LanguageModel.load(dir)
        #expect(m.tokenizer == nil)
        #expect(throws: RuntimeError.missingTokenizer(path: dir)) { try m.encode("x") }
        #expect(throws: RuntimeError.missingTokenizer(path: dir)) { try LanguageModel.load(dir, options: LoadOptions(tokenizer: .required)) }
    }
}
