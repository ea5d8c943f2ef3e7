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
}
