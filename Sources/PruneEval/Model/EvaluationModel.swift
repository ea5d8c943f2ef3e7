/// What the evaluation needs from a language model: its tokenizer, batched log-probabilities of
/// continuation tokens, and greedy generation.
///
/// Implementations should batch the items and compute shared context prefixes once (the prompts of
/// one CounterFact request, or the choices of one multiple-choice question, share their context).
/// The results must not depend on how the items are batched or on the thread count.
package protocol EvaluationModel: AnyObject {
    /// The token ids of `text` as the model tokenizes it: BOS first where the model adds one.
    func tokenize(_ text: String) throws -> [Int]

    /// The text of `ids` (special tokens left out).
    func detokenize(_ ids: [Int]) throws -> String

    /// For every item, one natural-log probability per continuation token, in order. Items with an
    /// empty context or an empty continuation are the caller's error; implementations may throw.
    func continuationLogProbabilities(_ items: [ContinuationItem]) throws -> [[Double]]

    /// The greedy (argmax) continuation of each prompt, `maxTokens` tokens or fewer when the model
    /// emits its end-of-sequence token (which is not included).
    func greedyContinuations(_ prompts: [[Int]], maxTokens: Int) throws -> [[Int]]

    /// For every prompt, the rank of `tokens[i]` in the model's next-token distribution after
    /// `prompts[i]`: how many tokens have a larger logit (0: the argmax).
    func nextTokenRanks(_ prompts: [[Int]], tokens: [Int]) throws -> [Int]

    /// The longest sequence the model runs (nil: no limit). Scoring a continuation runs its context
    /// and every continuation token but the last; inputs that need more are the caller's error,
    /// named with their file and line (`EvalError.tooLong`).
    var contextLength: Int? { get }
}

extension EvaluationModel {
    package var contextLength: Int? { nil }

    /// `continuationLogProbabilities`, checked: one answer per item (`what` names the items, e.g.
    /// "choices") and one log-probability per continuation token.
    package func checkedLogProbabilities(_ items: [ContinuationItem], what: String) throws -> [[Double]] {
        let lps = try continuationLogProbabilities(items)
        guard lps.count == items.count else {
            throw EvalError.modelAnswer(what: "\(lps.count) answers for \(items.count) \(what)")
        }
        for (lp, item) in zip(lps, items) where lp.count != item.continuation.count {
            throw EvalError.modelAnswer(what: "\(lp.count) log-probabilities for a continuation of \(item.continuation.count) tokens")
        }
        return lps
    }

    /// Models that cannot give their logits (the tests' stand-ins) cannot rank tokens.
    package func nextTokenRanks(_ prompts: [[Int]], tokens: [Int]) throws -> [Int] {
        throw EvalError.modelAnswer(what: "no next-token distribution (this model gives log-probabilities only)")
    }

    /// Throws `EvalError.tooLong` when scoring `item` needs more positions than the context.
    package func checkFits(_ item: ContinuationItem, path: String, line: Int, what: @autoclosure () -> String) throws {
        guard let context = contextLength, item.context.count + item.continuation.count - 1 > context else { return }
        throw EvalError.tooLong(path: path, line: line, what: what(), tokens: item.context.count + item.continuation.count - 1,
                                context: context)
    }
}
