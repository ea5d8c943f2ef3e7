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
}
