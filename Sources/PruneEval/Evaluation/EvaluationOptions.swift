/// What to measure (the options of prune-eval, as a library value).
package struct EvaluationOptions: Sendable, Equatable {
    /// CounterFact requests (JSON array or JSON Lines).
    package var requests: String?
    /// A text for perplexity, one document a non-blank line.
    package var perplexity: String?
    /// Each perplexity document is truncated to its first N tokens (BOS included where added).
    package var perplexityTokens = 128
    /// Only the first N documents (all when nil).
    package var perplexityDocuments: Int?
    /// Multiple-choice task files.
    package var tasks: [String] = []
    /// Greedy generations of N tokens for the n-gram entropy (needs `requests`).
    package var generate: Int?
    /// A sidecar whose tensor list names the matrices whose condition numbers are measured.
    package var kappaSidecar: String?
    /// Prompts (or documents) per batched call of the model.
    package var batchSize = 16

    package init() {}
}
