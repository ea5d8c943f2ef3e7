import PruneFormats
import PruneRuntime

/// Computes key statistics at one layer over a text: each document tokenized and cut to its first
/// `docTokens` tokens, documents read in order until `maxDocuments` or until the one that brings the
/// count to ≥ `maxTokens` (0 = no cap); every position's key is added.
///
/// The documents run packed: consecutive documents fill the groups of `PackedRun` (each
/// document attends only to itself), so that every matrix product of the forward is one large
/// sgemm; groups run in parallel through the layer (its key is read) and add up in document order. The
/// groups depend on the text and the caps only, never on the thread count.
public struct StatisticsComputer: Sendable {
    public var model: FactModel
    public var tokenizer: FactTokenizer
    public var threads: Int

    /// Documents tokenized at a time (the groups never cross these chunks).
    static let chunkDocuments = 64

    public init(model: FactModel, tokenizer: FactTokenizer, threads: Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.threads = threads
    }

    public func compute(text: StatisticsText, layer: Int, modelHash: String, docTokens: Int, maxTokens: Int,
                        maxDocuments: Int, progress: ((Int, Int) -> Void)? = nil) throws -> KeyStatistics {
        var stats = KeyStatistics(modelHash: modelHash, layer: layer, width: model.config.ffnSize)
        let cut = docTokens > 0 ? min(docTokens, model.config.contextLength) : model.config.contextLength
        let docs = text.documents
        let limit = min(docs.count, maxDocuments)
        var next = 0, pending = 0
        var done = false
        while !done, next < limit {
            // Tokenize a chunk in parallel; keep, in order, the non-empty documents the caps take.
            let start = next, end = min(limit, next + Self.chunkDocuments)
            let ids = ParallelMap.map(end - start, threads: threads) { [self] i in
                Array(tokenizer.encode(docs[start + i]).prefix(cut))
            }
            var taken: [[Int32]] = []
            for s in ids where !s.isEmpty {
                taken.append(s)
                pending += s.count
                if maxTokens > 0, pending >= maxTokens { done = true; break }
            }
            next = end
            let docsHere = taken
            let groups = PackedRun.groups(taken.map(\.count), rows: PackedRun.groupRows)
            let runner = model.on(threads: groups.count == 1 ? threads : 1)
            // Rounds of `threads` groups bound the keys held at once; the sums go in group order.
            var g0 = 0
            while g0 < groups.count {
                let round = Array(groups[g0..<min(groups.count, g0 + max(1, threads))])
                let keys = try ParallelMap.map(round.count, threads: threads) { i in
                    try runner.run(round[i].map { docsHere[$0] }, through: layer).trace.mlpKey.values
                }
                for (members, k) in zip(round, keys) {
                    stats.add(keys: k, tokens: members.reduce(0) { $0 + taken[$1].count }, documents: members.count,
                              mirror: false, threads: threads)
                }
                g0 += round.count
            }
            progress?(stats.documents, stats.count)
        }
        stats.symmetrize()
        stats.sources = [KeyStatistics.Source(textSHA256: text.sha256, docTokens: docTokens, maxTokens: maxTokens,
                                              maxDocuments: maxDocuments, tokens: stats.count)]
        return stats
    }
}
