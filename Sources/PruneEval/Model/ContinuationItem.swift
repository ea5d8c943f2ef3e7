/// One scoring question: the log-probability of each token of `continuation` given `context` and
/// the continuation tokens before it. `context` starts with BOS when the model adds one.
package struct ContinuationItem: Sendable, Equatable, Hashable {
    package var context: [Int]
    package var continuation: [Int]

    package init(context: [Int], continuation: [Int]) {
        self.context = context
        self.continuation = continuation
    }

    /// Splits a tokenized text at `prefixLength`: the tokens before are the context, the rest the
    /// continuation (ROME's and lm-evaluation-harness's way of scoring a candidate).
    package init(tokens: [Int], prefixLength: Int) {
        let k = max(0, min(prefixLength, tokens.count))
        self.context = Array(tokens[..<k])
        self.continuation = Array(tokens[k...])
    }
}
