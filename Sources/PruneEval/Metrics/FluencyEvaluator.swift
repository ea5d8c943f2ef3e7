/// Generates greedily after prompts and measures the n-gram entropy of the texts (ROME's fluency).
package struct FluencyEvaluator {
    package var maxTokens: Int
    package var chunkSize: Int

    package init(maxTokens: Int, chunkSize: Int = 16) {
        self.maxTokens = maxTokens
        self.chunkSize = max(1, chunkSize)
    }

    /// The prompts of the requests: CounterFact's `generation_prompts`, or the rewrite prompt for a
    /// request without any.
    package static func prompts(_ records: [CounterFactRecord]) -> [String] {
        records.flatMap { $0.generationPrompts.isEmpty ? [$0.rewritePrompt] : $0.generationPrompts }
    }

    package func evaluate(prompts: [String], model: any EvaluationModel,
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> FluencyResult {
        var texts: [String] = []
        var start = 0
        while start < prompts.count {
            let chunk = Array(prompts[start..<min(start + chunkSize, prompts.count)])
            let ids = try chunk.map { try model.tokenize($0) }
            let gens = try model.greedyContinuations(ids, maxTokens: maxTokens)
            guard gens.count == ids.count else {
                throw EvalError.modelAnswer(what: "\(gens.count) generations for \(ids.count) prompts")
            }
            for (p, g) in zip(ids, gens) { texts.append(try model.detokenize(p + g)) }
            start += chunk.count
            progress(start, prompts.count)
        }
        return FluencyResult(texts: texts, maxTokens: maxTokens)
    }
}
