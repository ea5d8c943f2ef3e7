import Foundation
import PruneRuntime

/// The runtime's side of a measurement, run in a child process of its own (as the baselines are):
/// one forward pass over the prompt batch (logits of each last position), then greedy decoding of
/// one sequence with the KV cache, best of `reps`.
enum OursChild {
    static func perf(model: String, work: Work) throws -> Timing {
        let t0 = now()
        let lm = try LanguageModel.load(model, options: LoadOptions(threads: work.threads, tokenizer: .skip))
        let load = now() - t0
        let t = lm.transformer
        func promptPass() throws -> Double {
            let s = now()
            _ = try t.forward(work.prompts, caches: nil, logits: .last)
            return now() - s
        }
        func generate() throws -> (Double, [Int32]) {
            let cache = KVCache(config: lm.config, capacity: work.gen_prompt.count + work.gen_tokens)
            var r = try t.forward([work.gen_prompt], caches: [cache], logits: .last)
            var token = Int32(Sampler.argmax(r.logits.values[...]))
            var produced = [token]
            let s = now()
            for _ in 1..<work.gen_tokens {
                r = try t.forward([[token]], caches: [cache], logits: .last)
                token = Int32(Sampler.argmax(r.logits.values[...]))
                produced.append(token)
            }
            return (now() - s, produced)
        }
        _ = try promptPass()
        var bestPrompt = Double.infinity
        for _ in 0..<work.reps { bestPrompt = min(bestPrompt, try promptPass()) }
        _ = try generate()
        var bestGen = Double.infinity
        var ids: [Int32] = []
        for _ in 0..<work.reps {
            let (s, p) = try generate()
            bestGen = min(bestGen, s)
            ids = p
        }
        return Timing(prompt_seconds: bestPrompt, gen_seconds: bestGen, gen_steps: work.gen_tokens - 1, gen_ids: ids,
                      threads: work.threads, version: nil, load_seconds: load)
    }

    /// The memory measurement: load, one short prompt, `tokens` greedy tokens; seconds of each part
    /// and this process's peak RSS.
    static func memory(model: String, tokens: Int, threads: Int) throws -> [String: Double] {
        let t0 = now()
        let lm = try LanguageModel.load(model, options: LoadOptions(threads: threads, tokenizer: .required))
        let t1 = now()
        let prompt = try lm.encode("The capital of France is")
        let cache = KVCache(config: lm.config, capacity: prompt.count + tokens)
        var r = try lm.transformer.forward([prompt], caches: [cache], logits: .last)
        let t2 = now()
        var token = Int32(Sampler.argmax(r.logits.values[...]))
        for _ in 1..<tokens {
            r = try lm.transformer.forward([[token]], caches: [cache], logits: .last)
            token = Int32(Sampler.argmax(r.logits.values[...]))
        }
        let t3 = now()
        return ["load_seconds": t1 - t0, "prompt_seconds": t2 - t1, "prompt_tokens": Double(prompt.count),
                "gen_seconds": t3 - t2, "gen_steps": Double(tokens - 1), "vmhwm_kib": Double(peakRSSKiB())]
    }
}
