/// The fluency of greedy generations: ROME's n-gram entropy, averaged over the generations.
package struct FluencyResult: Sendable, Equatable {
    /// The prompt and its greedy continuation, decoded together (ROME scores the whole text).
    package var texts: [String]
    /// Tokens generated per prompt (at most).
    package var maxTokens: Int
    package var ngramEntropy: Double

    package init(texts: [String], maxTokens: Int) {
        self.texts = texts
        self.maxTokens = maxTokens
        self.ngramEntropy = NGramEntropy.mean(texts)
    }
}
