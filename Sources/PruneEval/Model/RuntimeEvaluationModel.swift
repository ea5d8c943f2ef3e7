import PruneRuntime

/// The evaluation model on the runtime: a transformer and the model's tokenizer.
package final class RuntimeEvaluationModel: EvaluationModel {
    package let transformer: Transformer
    private let encode: (String) throws -> [Int]
    private let decode: ([Int]) throws -> String
    package var scorer: PrefixSharingScorer
    /// Tokens that end a greedy generation.
    package var stopTokens: Set<Int32>

    package init(transformer: Transformer, stopTokens: Set<Int32>? = nil,
                 encode: @escaping (String) throws -> [Int], decode: @escaping ([Int]) throws -> String) {
        self.transformer = transformer
        self.encode = encode
        self.decode = decode
        self.scorer = PrefixSharingScorer(transformer: transformer)
        self.stopTokens = stopTokens ?? Set(transformer.config.eosTokenIDs)
    }

    package var contextLength: Int? { transformer.config.contextLength }

    package func tokenize(_ text: String) throws -> [Int] { try encode(text) }

    package func detokenize(_ ids: [Int]) throws -> String { try decode(ids) }

    package func continuationLogProbabilities(_ items: [ContinuationItem]) throws -> [[Double]] {
        try scorer.logProbabilities(items)
    }

    package func greedyContinuations(_ prompts: [[Int]], maxTokens: Int) throws -> [[Int]] {
        let gens = try transformer.generate(prompts.map { $0.map { Int32($0) } },
                                            options: GenerationOptions(maxNewTokens: maxTokens, sampling: .greedy,
                                                                       stopTokens: stopTokens))
        return gens.map { g in g.ids.filter { !stopTokens.contains($0) }.map(Int.init) }
    }

    package func nextTokenRanks(_ prompts: [[Int]], tokens: [Int]) throws -> [Int] {
        guard prompts.count == tokens.count else {
            throw EvalError.modelAnswer(what: "\(tokens.count) tokens to rank for \(prompts.count) prompts")
        }
        var ranks: [Int] = []
        ranks.reserveCapacity(prompts.count)
        var start = 0
        while start < prompts.count {
            // Batches of prompts within the scorer's token budget.
            var end = start, rows = 0
            while end < prompts.count, end == start || rows + prompts[end].count <= scorer.maxBatchTokens {
                rows += prompts[end].count
                end += 1
            }
            let result = try transformer.forward(prompts[start..<end].map { $0.map { Int32($0) } }, logits: .last)
            for (sequence, i) in (start..<end).enumerated() {
                let logits = result.logits(sequence: sequence)
                guard logits.rows == 1, tokens[i] >= 0, tokens[i] < logits.cols else {
                    throw EvalError.modelAnswer(what: "no logit for token \(tokens[i]) after prompt \(i + 1)")
                }
                let target = logits.values[tokens[i]]
                guard target.isFinite else { throw EvalError.nonFinite(model: nil, place: "the next-token logits", what: "a logit is") }
                ranks.append(logits.values.reduce(0) { $1 > target ? $0 + 1 : $0 })
            }
            start = end
        }
        return ranks
    }
}
