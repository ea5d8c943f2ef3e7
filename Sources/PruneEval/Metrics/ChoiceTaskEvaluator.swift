/// Scores multiple-choice questions by log-likelihood, as lm-evaluation-harness does for its
/// `multiple_choice` tasks: the continuation of each choice is `" " + choice`; white space at the end
/// of the prompt moves into the continuation; the choice's tokens are those of the whole text after
/// the prompt's (BOS where the model adds one); its log-likelihood is the sum of their log-probabilities.
package struct ChoiceTaskEvaluator {
    package var chunkSize: Int

    package init(chunkSize: Int = 16) { self.chunkSize = max(1, chunkSize) }

    /// The context and the whole text of a choice (lm-evaluation-harness `_encode_pair`).
    package static func split(prompt: String, choice: String) -> (context: String, whole: String) {
        var context = Substring(prompt)
        while let last = context.unicodeScalars.last, last.properties.isWhitespace {
            context = Substring(context.unicodeScalars.dropLast())
        }
        return (String(context), prompt + " " + choice)
    }

    package func evaluate(_ questions: [ChoiceQuestion], model: any EvaluationModel, path: String,
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> ChoiceTaskResult {
        var scoring = CandidateScoring(model: model)
        var correct = 0, correctNorm = 0
        var picks: [Int] = [], picksNorm: [Int] = []
        var start = 0
        while start < questions.count {
            let chunk = questions[start..<min(start + chunkSize, questions.count)]
            var items: [ContinuationItem] = []
            for q in chunk {
                for c in q.choices {
                    let (context, whole) = Self.split(prompt: q.prompt, choice: c)
                    let prefix = try scoring.tokens(context).count
                    let full = try scoring.tokens(whole)
                    guard prefix > 0 else {
                        throw EvalError.emptyTokens(path: path, line: q.line, what: "the prompt gives no token (the model adds no BOS)")
                    }
                    guard full.count > prefix else {
                        throw EvalError.emptyTokens(path: path, line: q.line, what: "choice \"\(c)\" gives no token after the prompt's")
                    }
                    let item = ContinuationItem(tokens: full, prefixLength: prefix)
                    try model.checkFits(item, path: path, line: q.line, what: "the prompt with choice \"\(c)\"")
                    items.append(item)
                }
            }
            let lps = try model.checkedLogProbabilities(items, what: "choices")
            var k = 0
            for q in chunk {
                var best = 0, bestNorm = 0
                var bestLL = -Double.infinity, bestNormLL = -Double.infinity
                for (i, c) in q.choices.enumerated() {
                    let ll = lps[k].reduce(0, +)
                    k += 1
                    guard ll.isFinite else {
                        throw EvalError.nonFinite(model: nil, place: "\(path):\(q.line)", what: "the log-likelihood of choice \"\(c)\" is")
                    }
                    // lm-evaluation-harness divides by len(choice): Unicode code points in Python.
                    let norm = ll / Double(c.unicodeScalars.count)
                    if ll > bestLL { bestLL = ll; best = i }
                    if norm > bestNormLL { bestNormLL = norm; bestNorm = i }
                }
                picks.append(best)
                picksNorm.append(bestNorm)
                if best == q.answer { correct += 1 }
                if bestNorm == q.answer { correctNorm += 1 }
            }
            start += chunk.count
            progress(start, questions.count)
        }
        return ChoiceTaskResult(path: path, questions: questions.count, correct: correct,
                                correctNormalized: correctNorm, picks: picks, picksNormalized: picksNorm)
    }
}
