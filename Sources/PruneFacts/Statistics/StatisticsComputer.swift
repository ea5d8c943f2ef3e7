import PruneFormats
import PruneRuntime

/// Computes key statistics at one layer over a text: each document tokenized and cut to its first
/// `docTokens` tokens, documents read in order until `maxDocuments` or until the one that brings the
/// count to ≥ `maxTokens` (0 = no cap); every position's key is added.
///
/// The caps apply to the whole text first: a first pass tokenizes the documents the caps can reach
/// and keeps those they take (the non-empty ones) with their lengths. These are cut into fixed
/// chunks of `chunkDocuments` documents; `--part K/N` runs chunks ⌊(K−1)C/N⌋ ..< ⌊KC/N⌋ of the C
/// chunks (an empty range when C < N: a part with no documents, zero statistics). Each chunk is
/// summed in f64 from zero (the upper triangle, in tiles: `TiledKeySum`), in an order fixed by the
/// text alone, and added to an `ExactKeySum`: the total is the same for every split, so merged parts
/// are byte-identical to the whole run. Memory: the exact sum (8·m² bytes) and the chunk's tiles
/// (4·m²), besides the model and one round of keys.
///
/// Within a chunk the documents run packed: consecutive documents fill the groups of `PackedRun`
/// (each document attends only to itself), so that every matrix product of the forward is one large
/// sgemm; groups run in parallel through the layer (its key is read) and add up in document order.
/// The groups depend on the text and the caps only, never on the thread count.
public struct StatisticsComputer: Sendable {
    public var model: FactModel
    public var tokenizer: FactTokenizer
    public var threads: Int

    /// Documents a chunk holds (the groups never cross chunks); also how many are tokenized at a time.
    public static let chunkDocuments = 64

    /// The K-th (1-based) of N slices of a text's chunks.
    public struct Part: Sendable, Equatable {
        public var index: Int
        public var count: Int
        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }
        public static let whole = Part(index: 1, count: 1)

        /// The chunks of `chunks` this part runs.
        public func chunks(of chunks: Int) -> Range<Int> {
            (index - 1) * chunks / count ..< index * chunks / count
        }
    }

    /// The state after the chunks before `nextChunk` (of the whole text's numbering) were added.
    public struct Checkpoint: Sendable, Equatable {
        public var nextChunk: Int
        public var exact: ExactKeySum
        public var count: Int
        public var documents: Int
        public init(nextChunk: Int, exact: ExactKeySum, count: Int, documents: Int) {
            self.nextChunk = nextChunk
            self.exact = exact
            self.count = count
            self.documents = documents
        }
    }

    /// Where a run stands (the part's documents and tokens, those of a resumed checkpoint included).
    public struct Progress: Sendable {
        public var documents: Int
        public var documentsTotal: Int
        public var tokens: Int
        public var tokensTotal: Int
        /// Tokens this process added (not those of a checkpoint it resumed): for a rate.
        public var tokensThisRun: Int
    }

    public init(model: FactModel, tokenizer: FactTokenizer, threads: Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.threads = threads
    }

    /// The documents the caps take, in order: (index in the text, tokens after the cut).
    func plan(text: StatisticsText, cut: Int, maxTokens: Int, maxDocuments: Int) -> [(document: Int, tokens: Int)] {
        let docs = text.documents
        let limit = min(docs.count, maxDocuments)
        var taken: [(document: Int, tokens: Int)] = []
        var total = 0, next = 0
        while next < limit {
            let start = next, end = min(limit, next + Self.chunkDocuments)
            let lengths = ParallelMap.map(end - start, threads: threads) { [self] i in
                min(cut, tokenizer.encode(docs[start + i]).count)
            }
            for (i, n) in lengths.enumerated() where n > 0 {
                taken.append((start + i, n))
                total += n
                if maxTokens > 0, total >= maxTokens { return taken }
            }
            next = end
        }
        return taken
    }

    /// The statistics of `part` of the text. `resume`: a checkpoint of the same run to go on from;
    /// `checkpoint` is called every `checkpointEvery` chunks (0 = never) before the last, and may
    /// throw to stop the run there. `materialize`: also make the f64 sum (m × m); without it the
    /// statistics are held by their exact sum alone (`KeyStatistics.isExactOnly`), which is all a
    /// file needs: it is written from it row by row.
    public func compute(text: StatisticsText, layer: Int, modelHash: String, docTokens: Int, maxTokens: Int,
                        maxDocuments: Int, part: Part = .whole, arithmetic: String = "", resume: Checkpoint? = nil,
                        checkpointEvery: Int = 0, checkpoint: ((Checkpoint) throws -> Void)? = nil,
                        progress: ((Progress) -> Void)? = nil, materialize: Bool = true) throws -> KeyStatistics {
        var stats = KeyStatistics(modelHash: modelHash, layer: layer, width: model.config.ffnSize)
        stats.sum = []
        var chunkSum = TiledKeySum(width: stats.width)
        let name = "\(text.path) (layer \(layer))"
        let cut = docTokens > 0 ? min(docTokens, model.config.contextLength) : model.config.contextLength
        let docs = text.documents
        let taken = plan(text: text, cut: cut, maxTokens: maxTokens, maxDocuments: maxDocuments)
        let chunkCount = (taken.count + Self.chunkDocuments - 1) / Self.chunkDocuments
        let range = part.chunks(of: chunkCount)
        func members(_ c: Int) -> ArraySlice<(document: Int, tokens: Int)> {
            taken[c * Self.chunkDocuments ..< min(taken.count, (c + 1) * Self.chunkDocuments)]
        }
        let docsTotal = range.reduce(0) { $0 + members($1).count }
        let tokensTotal = range.reduce(0) { $0 + members($1).reduce(0) { $0 + $1.tokens } }
        var exact = ExactKeySum(width: stats.width)
        var first = range.lowerBound
        if let r = resume {
            guard range.contains(r.nextChunk), r.exact.width == stats.width else {
                throw FactError.statisticsMismatch(path: name, reason: "the checkpoint's chunk \(r.nextChunk) is not one of this part's chunks \(range.lowerBound)..<\(range.upperBound)")
            }
            first = r.nextChunk
            exact = r.exact
            stats.count = r.count
            stats.documents = r.documents
        }
        let resumedTokens = stats.count
        for c in first..<range.upperBound {
            let chunk = Array(members(c))
            let ids = ParallelMap.map(chunk.count, threads: threads) { [self] i in
                Array(tokenizer.encode(docs[chunk[i].document]).prefix(cut))
            }
            chunkSum.zero()
            let groups = PackedRun.groups(ids.map(\.count), rows: PackedRun.groupRows)
            let runner = model.on(threads: groups.count == 1 ? threads : 1)
            // Rounds of `threads` groups bound the keys held at once; the sums go in group order.
            var g0 = 0
            while g0 < groups.count {
                let round = Array(groups[g0..<min(groups.count, g0 + max(1, threads))])
                let keys = try ParallelMap.map(round.count, threads: threads) { i in
                    try runner.run(round[i].map { ids[$0] }, through: layer).trace.mlpKey.values
                }
                for (group, k) in zip(round, keys) {
                    let tokens = group.reduce(0) { $0 + ids[$1].count }
                    chunkSum.add(keys: k, rows: tokens, threads: threads)
                    stats.count += tokens
                    stats.documents += group.count
                }
                g0 += round.count
            }
            try exact.add(tiles: chunkSum, name: name)
            progress?(Progress(documents: stats.documents, documentsTotal: docsTotal, tokens: stats.count,
                               tokensTotal: tokensTotal, tokensThisRun: stats.count - resumedTokens))
            if checkpointEvery > 0, (c + 1 - first) % checkpointEvery == 0, c + 1 < range.upperBound, let save = checkpoint {
                try save(Checkpoint(nextChunk: c + 1, exact: exact, count: stats.count, documents: stats.documents))
            }
        }
        chunkSum = TiledKeySum(width: 0)
        stats.exact = exact
        if materialize { stats.sum = exact.doubles() }
        let sliced = part.count > 1
        stats.sources = [KeyStatistics.Source(textSHA256: text.sha256, docTokens: docTokens, maxTokens: maxTokens,
                                              maxDocuments: maxDocuments, tokens: stats.count,
                                              part: sliced ? part.index : 0, parts: sliced ? part.count : 0,
                                              arithmetic: sliced ? arithmetic : "")]
        return stats
    }
}
