/// Computes key statistics at one layer over a text: each document tokenized and cut to its first
/// `docTokens` tokens, documents read in order until `maxDocuments` or until the one that brings the
/// count to ≥ `maxTokens` (0 = no cap); every position's key is added.
public struct StatisticsComputer: Sendable {
    public var network: FactNetwork
    public var tokenizer: FactTokenizer
    public var threads: Int

    public init(network: FactNetwork, tokenizer: FactTokenizer, threads: Int) {
        self.network = network
        self.tokenizer = tokenizer
        self.threads = threads
    }

    public func compute(text: StatisticsText, layer: Int, modelHash: String, docTokens: Int, maxTokens: Int,
                        maxDocuments: Int, progress: ((Int, Int) -> Void)? = nil) -> KeyStatistics {
        var stats = KeyStatistics(modelHash: modelHash, layer: layer, width: network.config.ffnSize)
        let cut = docTokens > 0 ? min(docTokens, network.config.contextLength) : network.config.contextLength
        // Documents are tokenized and run in parallel batches, added in document order.
        let batch = max(1, threads) * 4
        var next = 0
        var done = false
        let docs = text.documents
        let limit = min(docs.count, maxDocuments)
        while !done, next < limit {
            let end = min(limit, next + batch)
            let range = next..<end
            let keys = ParallelMap.map(range.count, threads: threads) { [self] i -> (keys: [Float], tokens: Int) in
                let ids = Array(tokenizer.encode(docs[range.lowerBound + i]).prefix(cut))
                guard !ids.isEmpty else { return ([], 0) }
                return (network.run(ids, through: layer).key, ids.count)
            }
            for k in keys {
                guard k.tokens > 0 else { continue }
                stats.add(keys: k.keys, tokens: k.tokens, mirror: false)
                if maxTokens > 0, stats.count >= maxTokens { done = true; break }
            }
            next = end
            progress?(stats.documents, stats.count)
        }
        stats.symmetrize()
        stats.sources = [KeyStatistics.Source(textSHA256: text.sha256, docTokens: docTokens, maxTokens: maxTokens,
                                              maxDocuments: maxDocuments, tokens: stats.count)]
        return stats
    }
}
