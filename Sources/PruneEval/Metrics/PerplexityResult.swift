import Foundation

/// Perplexity over documents: exp(total negative log-likelihood / number of predicted tokens).
package struct PerplexityResult: Sendable, Equatable {
    package var documents: Int
    /// Tokens predicted: every token of every (truncated) document after its first.
    package var tokens: Int
    package var totalNLL: Double
    package var perplexity: Double { tokens > 0 ? exp(totalNLL / Double(tokens)) : .nan }

    package init(documents: Int, tokens: Int, totalNLL: Double) {
        self.documents = documents
        self.tokens = tokens
        self.totalNLL = totalNLL
    }
}
