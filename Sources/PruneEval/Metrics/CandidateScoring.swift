/// Scores candidates after prompts as ROME's CounterFact evaluation does: the candidate's tokens are
/// those of `prompt + " " + candidate` after the first `len(tokenize(prompt))` (BOS where the model
/// adds it; the candidate is never tokenized alone), and its score is the mean negative
/// log-probability of those tokens. exp(−score) is the geometric-mean probability per token.
package struct CandidateScoring {
    package let model: any EvaluationModel
    private var cache: [String: [Int]] = [:]

    package init(model: any EvaluationModel) { self.model = model }

    /// The tokens of `text`, tokenized once per scorer.
    package mutating func tokens(_ text: String) throws -> [Int] {
        if let t = cache[text] { return t }
        let t = try model.tokenize(text)
        cache[text] = t
        return t
    }

    /// The item that scores `candidate` after `prompt`, joined by `separator`; nil when the
    /// candidate adds no token or the prompt has none.
    package mutating func item(prompt: String, candidate: String, separator: String = " ") throws -> ContinuationItem? {
        let prefix = try tokens(prompt).count
        let full = try tokens(prompt + separator + candidate)
        guard prefix > 0, full.count > prefix else { return nil }
        return ContinuationItem(tokens: full, prefixLength: prefix)
    }

    /// `item(prompt:candidate:)` for a request of `path`:`line`: an error when the candidate adds no
    /// token or the item does not fit the model.
    package mutating func checkedItem(prompt: String, candidate: String, path: String, line: Int) throws -> ContinuationItem {
        guard let item = try item(prompt: prompt, candidate: candidate) else {
            throw EvalError.emptyTokens(path: path, line: line, what: "\"\(prompt)\" + \" \(candidate)\" gives no token after the prompt's")
        }
        try model.checkFits(item, path: path, line: line, what: "\"\(prompt)\" + \" \(candidate)\"")
        return item
    }

    /// The mean negative log-probability of a candidate's tokens.
    package static func score(_ logProbabilities: [Double]) -> Double {
        guard !logProbabilities.isEmpty else { return .nan }
        var sum = 0.0
        for v in logProbabilities { sum -= v }
        return sum / Double(logProbabilities.count)
    }
}
