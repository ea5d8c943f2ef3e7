/// Perplexity of a model over documents: each document tokenized as the model does (BOS where it
/// adds one), truncated to its first `maxTokens` tokens; every token after the first is predicted.
package struct PerplexityEvaluator {
    package var maxTokens: Int
    package var chunkSize: Int

    package init(maxTokens: Int = 128, chunkSize: Int = 16) {
        self.maxTokens = max(2, maxTokens)
        self.chunkSize = max(1, chunkSize)
    }

    /// The token sequences of the documents (tokenize once, score on many models).
    package func tokenize(_ documents: [TextDocuments.Document], model: any EvaluationModel) throws -> [[Int]] {
        try documents.map { Array(try model.tokenize($0.text).prefix(maxTokens)) }
    }

    package func evaluate(tokenized docs: [[Int]], model: any EvaluationModel,
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> PerplexityResult {
        var total = 0.0
        var count = 0
        var start = 0
        while start < docs.count {
            let chunk = docs[start..<min(start + chunkSize, docs.count)].filter { $0.count >= 2 }
            let items = chunk.map { ContinuationItem(tokens: $0, prefixLength: 1) }
            if !items.isEmpty {
                let lps = try model.continuationLogProbabilities(items)
                guard lps.count == items.count else {
                    throw EvalError.modelAnswer(what: "\(lps.count) answers for \(items.count) documents")
                }
                for (item, lp) in zip(items, lps) {
                    guard lp.count == item.continuation.count else {
                        throw EvalError.modelAnswer(what: "a wrong number of log-probabilities for a document")
                    }
                    for v in lp { total -= v }
                    count += lp.count
                }
            }
            start = min(start + chunkSize, docs.count)
            progress(start, docs.count)
        }
        return PerplexityResult(documents: docs.count, tokens: count, totalNLL: total)
    }
}
