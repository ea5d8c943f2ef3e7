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

    /// `path` and `lines` (the documents' lines) name the place of log-probabilities that are not finite.
    package func evaluate(tokenized docs: [[Int]], model: any EvaluationModel, path: String = "perplexity", lines: [Int] = [],
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> PerplexityResult {
        var total = 0.0
        var count = 0
        var start = 0
        while start < docs.count {
            let chunk = (start..<min(start + chunkSize, docs.count)).filter { docs[$0].count >= 2 }
            let items = chunk.map { ContinuationItem(tokens: docs[$0], prefixLength: 1) }
            for (d, item) in zip(chunk, items) {
                try model.checkFits(item, path: path, line: d < lines.count ? lines[d] : d + 1,
                                    what: "the document (cut to --ppl-tokens \(maxTokens))")
            }
            if !items.isEmpty {
                let lps = try model.checkedLogProbabilities(items, what: "documents")
                for (d, lp) in zip(chunk, lps) {
                    guard lp.allSatisfy(\.isFinite) else {
                        let line = d < lines.count ? lines[d] : d + 1
                        throw EvalError.nonFinite(model: nil, place: "\(path):\(line)", what: "the log-probabilities of the document are")
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
