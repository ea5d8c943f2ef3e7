/// Options of `Transformer.generate`.
public struct GenerationOptions: Sendable {
    /// New tokens per prompt at most (fewer when a stop token comes or the context is full, so a
    /// count past the context, `Int.max` included, means "until the context is full").
    public var maxNewTokens: Int
    public var sampling: Sampling
    /// Tokens that end a sequence (included in its output); nil: the model's end tokens.
    public var stopTokens: Set<Int32>?
    /// Alternatives recorded per step (`GeneratedStep.top`).
    public var topLogprobs: Int

    public init(maxNewTokens: Int = 20, sampling: Sampling = .greedy, stopTokens: Set<Int32>? = nil, topLogprobs: Int = 0) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokens = stopTokens
        self.topLogprobs = topLogprobs
    }
}

/// One generated token.
public struct GeneratedStep: Sendable, Equatable {
    public var id: Int32
    /// Its log-probability under the full softmax of the logits.
    public var logprob: Float
    /// The most likely tokens at this step (`GenerationOptions.topLogprobs` of them).
    public var top: [TokenLogprob]
}

/// The continuation of one prompt.
public struct Generation: Sendable, Equatable {
    public var prompt: [Int32]
    public var steps: [GeneratedStep]
    /// Whether it ended on a stop token.
    public var stopped: Bool
    /// The generated ids.
    public var ids: [Int32] { steps.map(\.id) }
}

extension Transformer {
    /// Continues every prompt (a batch, different lengths allowed) with a KV cache: one prefill of
    /// all prompts, then one token per step for the sequences still running. `onStep(sequence, step)`
    /// is called as tokens are chosen (in sequence order within a step). Logits that are not finite
    /// are an error (`RuntimeError.nonFiniteLogits`: the sequence's index and the position predicted).
    public func generate(_ prompts: [[Int32]], options: GenerationOptions = GenerationOptions(),
                         onStep: ((Int, GeneratedStep) -> Void)? = nil) throws -> [Generation] {
        let stops = options.stopTokens ?? Set(config.eosTokenIDs)
        var results = prompts.map { Generation(prompt: $0, steps: [], stopped: false) }
        guard options.maxNewTokens > 0, !prompts.isEmpty else {
            for (s, p) in prompts.enumerated() where p.isEmpty { throw RuntimeError.emptyPrompt(sequence: s) }
            return results
        }
        // The context bounds every sequence: clamp before adding (no overflow for any count).
        let newTokens = min(options.maxNewTokens, config.contextLength)
        let caches = prompts.map { KVCache(config: config, capacity: $0.count + newTokens) }
        var sampler = Sampler(options.sampling)
        var active = Array(prompts.indices)
        var result = try forward(prompts, caches: caches, logits: .last)
        while !active.isEmpty {
            var next: [Int32] = []
            var still: [Int] = []
            for (j, s) in active.enumerated() {
                let row = result.logits.values[j * config.vocabularySize ..< (j + 1) * config.vocabularySize]
                // NaN or an infinity would be sampled as some token and printed as a log-probability.
                guard row.allSatisfy(\.isFinite) else {
                    throw RuntimeError.nonFiniteLogits(sequence: s, position: caches[s].length)
                }
                let id = sampler.next(row)
                let lp = Sampler.logSoftmax(row)
                let step = GeneratedStep(id: id, logprob: lp[Int(id)], top: Sampler.top(options.topLogprobs, logprobs: lp))
                results[s].steps.append(step)
                onStep?(s, step)
                if stops.contains(id) {
                    results[s].stopped = true
                } else if results[s].steps.count < options.maxNewTokens && caches[s].length < config.contextLength {
                    still.append(s)
                    next.append(id)
                }
            }
            active = still
            guard !active.isEmpty else { break }
            result = try forward(next.map { [$0] }, caches: active.map { caches[$0] }, logits: .last)
        }
        return results
    }
}
