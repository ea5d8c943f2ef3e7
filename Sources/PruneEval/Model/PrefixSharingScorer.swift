import Foundation
import PruneRuntime

/// Log-probabilities of continuations on the runtime, computing each distinct context once.
///
/// Items are grouped by context. A batch of groups runs in one forward pass: each group's context
/// followed by its first continuation (minus the last token), with a KV cache per group and logits
/// only where a continuation token is predicted. The log-probability of the first continuation
/// token of every item of the group comes from the context's last position, computed once. Each
/// further continuation of a group is run on the group's cache cut back to the context (batched
/// across the groups), so the context is never recomputed. Sums are in Double, in a fixed order:
/// the results do not depend on the batch composition's thread scheduling.
package struct PrefixSharingScorer {
    package let transformer: Transformer
    /// Rows (tokens) per forward pass at most, to bound the activations.
    package var maxBatchTokens: Int

    package init(transformer: Transformer, maxBatchTokens: Int = 4096) {
        self.transformer = transformer
        self.maxBatchTokens = max(1, maxBatchTokens)
    }

    struct Group {
        var context: [Int]
        var items: [Int]
    }

    package func logProbabilities(_ items: [ContinuationItem]) throws -> [[Double]] {
        var out = items.map { [Double](repeating: .nan, count: $0.continuation.count) }
        var groups: [Group] = []
        var index: [[Int]: Int] = [:]
        for (i, item) in items.enumerated() {
            guard !item.context.isEmpty else { throw EvalError.modelAnswer(what: "no context for item \(i) (an empty prompt)") }
            guard !item.continuation.isEmpty else { continue }
            if let g = index[item.context] {
                groups[g].items.append(i)
            } else {
                index[item.context] = groups.count
                groups.append(Group(context: item.context, items: [i]))
            }
        }
        // Batches of groups within the token budget (a group alone may exceed it).
        var start = 0
        while start < groups.count {
            var end = start
            var tokens = 0
            while end < groups.count {
                let first = items[groups[end].items[0]].continuation.count - 1
                let cost = groups[end].context.count + first
                if end > start, tokens + cost > maxBatchTokens { break }
                tokens += cost
                end += 1
            }
            try run(Array(groups[start..<end]), items: items, into: &out)
            start = end
        }
        return out
    }

    private func run(_ groups: [Group], items: [ContinuationItem], into out: inout [[Double]]) throws {
        let config = transformer.config
        let vocab = config.vocabularySize
        func check(_ id: Int) throws -> Int32 {
            guard id >= 0, id < vocab else { throw EvalError.modelAnswer(what: "token id \(id) outside the vocabulary of \(vocab)") }
            return Int32(id)
        }
        let longest = groups.map { g in g.context.count + g.items.map { items[$0].continuation.count }.max()! }
        let caches = zip(groups, longest).map { KVCache(config: config, capacity: $1) }
        // Pass 0: context + first continuation without its last token.
        var sequences: [[Int32]] = []
        var positions: [TokenPosition] = []
        for (s, g) in groups.enumerated() {
            let first = items[g.items[0]].continuation
            sequences.append(try (g.context + first.dropLast()).map(check))
            for p in (g.context.count - 1)..<(g.context.count + first.count - 1) {
                positions.append(TokenPosition(sequence: s, position: p))
            }
        }
        let r0 = try transformer.forward(sequences, caches: caches, logits: .positions(positions))
        var row = 0
        for g in groups {
            let first = items[g.items[0]].continuation
            // The context's last position predicts the first token of every item of the group.
            let contextRow = row
            for i in g.items {
                out[i][0] = Self.logProbability(r0.logits, row: contextRow, token: items[i].continuation[0])
            }
            for j in 1..<max(1, first.count) {
                out[g.items[0]][j] = Self.logProbability(r0.logits, row: row + j, token: first[j])
            }
            row += first.count
        }
        // Further continuations, one per group per pass, on the cache cut back to the context.
        let rounds = groups.map(\.items.count).max() ?? 0
        for k in 1..<max(1, rounds) {
            var seqs: [[Int32]] = []
            var cs: [KVCache] = []
            var owners: [Int] = []
            for (s, g) in groups.enumerated() where k < g.items.count {
                let c = items[g.items[k]].continuation
                guard c.count > 1 else { continue }
                caches[s].truncate(to: g.context.count)
                seqs.append(try c.dropLast().map(check))
                cs.append(caches[s])
                owners.append(g.items[k])
            }
            guard !seqs.isEmpty else { continue }
            let r = try transformer.forward(seqs, caches: cs, logits: .all)
            var row = 0
            for (n, i) in owners.enumerated() {
                let c = items[i].continuation
                for j in 1..<c.count { out[i][j] = Self.logProbability(r.logits, row: row + j - 1, token: c[j]) }
                row += seqs[n].count
            }
        }
    }

    /// log softmax(logits[row])[token], the normaliser summed in Double in index order.
    static func logProbability(_ logits: FloatMatrix, row: Int, token: Int) -> Double {
        let cols = logits.cols
        return logits.values.withUnsafeBufferPointer { p in
            let base = p.baseAddress! + row * cols
            var m = -Float.infinity
            for j in 0..<cols where base[j] > m { m = base[j] }
            var sum = 0.0
            for j in 0..<cols { sum += exp(Double(base[j] - m)) }
            return Double(base[token]) - Double(m) - log(sum)
        }
    }
}
