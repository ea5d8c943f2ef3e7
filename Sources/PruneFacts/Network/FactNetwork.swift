import Foundation

/// The model as the fact engine runs it: embeddings, blocks with saved activations, the final norm
/// and the head at chosen positions only, and the backward through the blocks above a layer.
public struct FactNetwork: Sendable {
    public var weights: NetworkWeights
    public var config: NetworkConfig { weights.config }
    /// Threads of the matrix products inside one pass (1 where passes already run in parallel); the
    /// results do not depend on it.
    public var threads = 1

    public init(weights: NetworkWeights) { self.weights = weights }

    public func block(_ l: Int) -> BlockPass { BlockPass(config: config, layer: l, weights: weights.blocks[l], threads: threads) }

    /// The residual stream after the embedding, [t, d].
    public func embed(_ ids: [Int32]) -> [Float] {
        let d = config.hiddenSize
        var x = [Float](repeating: 0, count: ids.count * d)
        for (p, id) in ids.enumerated() {
            let e = Int(id) * d
            for j in 0..<d { x[p * d + j] = weights.tokenEmbedding[e + j] }
            if let pos = weights.positionEmbedding { for j in 0..<d { x[p * d + j] += pos[p * d + j] } }
        }
        return x
    }

    /// Packed sequences' residual stream after the embedding, [Σt, d] (positions restart in each).
    public func embed(packed sequences: [[Int32]]) -> [Float] {
        sequences.count == 1 ? embed(sequences[0]) : sequences.flatMap { embed($0) }
    }

    /// Runs blocks 0…layer; returns the saved activations of block `layer` (its key, MLP output and
    /// output are what ROME/MEMIT read).
    public func run(_ ids: [Int32], through layer: Int) -> BlockActivations {
        run(packed: [ids], through: layer)
    }

    /// The same on packed sequences (rows in order, each sequence attending only to itself, with
    /// the arithmetic per row of one sequence run alone). `keyOnly`: block `layer` stops at its key
    /// (its MLP output and output are left empty).
    public func run(packed sequences: [[Int32]], through layer: Int, keyOnly: Bool = false) -> BlockActivations {
        let segments = sequences.map(\.count)
        var x = embed(packed: sequences)
        var last: BlockActivations?
        for l in 0...layer {
            let a = block(l).forward(x, segments: segments, keyOnly: keyOnly && l == layer)
            x = a.output
            last = a
        }
        return last!
    }

    /// Runs blocks `from`…end on the residual stream `x` [t, d]; returns every block's activations.
    public func run(residual x: [Float], rows t: Int, from: Int) -> [BlockActivations] {
        run(residual: x, segments: [t], from: from)
    }

    /// The same on packed sequences (`segments`: their lengths, in row order).
    public func run(residual x: [Float], segments: [Int], from: Int) -> [BlockActivations] {
        var h = x
        var acts: [BlockActivations] = []
        for l in from..<config.layerCount {
            let a = block(l).forward(h, segments: segments)
            h = a.output
            acts.append(a)
        }
        return acts
    }

    /// Final norm and head at `positions` of the last residual `h` [t, d]: logits [positions, vocab],
    /// and what the backward needs.
    public func head(_ h: [Float], positions: [Int]) -> (logits: [Float], normalized: [Float], rstd: [Float]) {
        let d = config.hiddenSize
        var rows = [Float](repeating: 0, count: positions.count * d)
        for (r, p) in positions.enumerated() { for j in 0..<d { rows[r * d + j] = h[p * d + j] } }
        let n = Norms.forward(rows, rows: positions.count, width: d, weights.outputNorm, epsilon: config.normEpsilon)
        return (weights.output.forward(n.y, rows: positions.count, threads: threads), n.normalized, n.rstd)
    }

    /// d(h) [t, d] from d(logits) at `positions`.
    public func headBackward(_ dlogits: [Float], positions: [Int], normalized: [Float], rstd: [Float], rows t: Int) -> [Float] {
        let d = config.hiddenSize
        let dn = weights.output.backward(dlogits, rows: positions.count, threads: threads)
        let dr = Norms.backward(dn, normalized: normalized, rstd: rstd, rows: positions.count, width: d, weights.outputNorm)
        var dh = [Float](repeating: 0, count: t * d)
        for (r, p) in positions.enumerated() { for j in 0..<d { dh[p * d + j] += dr[r * d + j] } }
        return dh
    }

    /// Backward through the blocks whose activations are `acts` (in forward order): d(their input).
    public func backward(_ dout: [Float], through acts: [BlockActivations], from: Int) -> [Float] {
        var g = dout
        for (i, a) in acts.enumerated().reversed() { g = block(from + i).backward(g, a) }
        return g
    }

    /// Full-model logits at every position (for scoring and tests).
    public func logits(_ ids: [Int32]) -> [Float] {
        let acts = run(residual: embed(ids), rows: ids.count, from: 0)
        return head(acts.last!.output, positions: Array(0..<ids.count)).logits
    }
}
