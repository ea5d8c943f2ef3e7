/// Computes the CounterFact metrics of requests on a model: for every request, the scores of the new
/// and the true target after the rewrite prompt, each paraphrase prompt and each neighborhood prompt.
/// Requests are scored in chunks; each chunk is one batched call of the model.
package struct CounterFactEvaluator {
    package var chunkSize = 16

    package init(chunkSize: Int = 16) { self.chunkSize = max(1, chunkSize) }

    /// `progress(done, total)` after every chunk of requests.
    package func evaluate(_ records: [CounterFactRecord], model: any EvaluationModel, path: String = "requests",
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> [RequestResult] {
        var scoring = CandidateScoring(model: model)
        var results: [RequestResult] = []
        results.reserveCapacity(records.count)
        var start = 0
        while start < records.count {
            let chunk = records[start..<min(start + chunkSize, records.count)]
            // Prompts of every record in order: rewrite, paraphrases, neighbors; two items each.
            var items: [ContinuationItem] = []
            for r in chunk {
                for p in [r.rewritePrompt] + r.paraphrasePrompts + r.neighborhoodPrompts {
                    for c in [r.targetNew, r.targetTrue] {
                        items.append(try scoring.checkedItem(prompt: p, candidate: c, path: path, line: r.line))
                    }
                }
            }
            let lps = try model.checkedLogProbabilities(items, what: "continuations")
            var k = 0
            func next(_ prompt: String, _ line: Int) throws -> PromptScores {
                let a = lps[k], b = lps[k + 1]
                guard (a + b).allSatisfy(\.isFinite) else {
                    throw EvalError.nonFinite(model: nil, place: "\(path):\(line)", what: "the log-probabilities after \"\(prompt)\" are")
                }
                k += 2
                return PromptScores(prompt: prompt, new: CandidateScoring.score(a), true: CandidateScoring.score(b))
            }
            for r in chunk {
                let rewrite = try next(r.rewritePrompt, r.line)
                let para = try r.paraphrasePrompts.map { try next($0, r.line) }
                let neigh = try r.neighborhoodPrompts.map { try next($0, r.line) }
                results.append(RequestResult(caseID: r.caseID, subject: r.subject, rewrite: rewrite,
                                             paraphrase: para, neighborhood: neigh))
            }
            start += chunk.count
            progress(start, records.count)
        }
        return results
    }
}
