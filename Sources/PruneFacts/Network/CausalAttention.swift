import Foundation

/// Causal multi-head attention with grouped key/value heads on one sequence, forward with the
/// probabilities saved, and the backward to q, k and v.
public struct CausalAttention: Sendable {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    /// The factor of q·k.
    public let scale: Float

    public init(heads: Int, kvHeads: Int, headDim: Int, scale: Float) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.scale = scale
    }

    /// out [t, heads·hd] and the probabilities [heads, t, t] (row i: weights of positions 0…i).
    public func forward(q: [Float], k: [Float], v: [Float], rows t: Int) -> (out: [Float], probs: [Float]) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads
        var out = [Float](repeating: 0, count: t * qw)
        var probs = [Float](repeating: 0, count: heads * t * t)
        var row = [Float](repeating: 0, count: t)
        for h in 0..<heads {
            let g = h / group
            for i in 0..<t {
                var mx = -Float.infinity
                for j in 0...i {
                    var s: Float = 0
                    for e in 0..<headDim { s += q[i * qw + h * headDim + e] * k[j * kw + g * headDim + e] }
                    s *= scale
                    row[j] = s
                    mx = max(mx, s)
                }
                var z: Float = 0
                for j in 0...i { row[j] = expf(row[j] - mx); z += row[j] }
                let pb = (h * t + i) * t
                for j in 0...i {
                    let p = row[j] / z
                    probs[pb + j] = p
                    for e in 0..<headDim { out[i * qw + h * headDim + e] += p * v[j * kw + g * headDim + e] }
                }
            }
        }
        return (out, probs)
    }

    /// dq, dk, dv from dout.
    public func backward(dout: [Float], q: [Float], k: [Float], v: [Float], probs: [Float], rows t: Int)
        -> (dq: [Float], dk: [Float], dv: [Float]) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads
        var dq = [Float](repeating: 0, count: t * qw)
        var dk = [Float](repeating: 0, count: t * kw)
        var dv = [Float](repeating: 0, count: t * kw)
        var dp = [Float](repeating: 0, count: t)
        for h in 0..<heads {
            let g = h / group
            for i in 0..<t {
                let pb = (h * t + i) * t
                var dot: Float = 0
                for j in 0...i {
                    var s: Float = 0
                    for e in 0..<headDim { s += dout[i * qw + h * headDim + e] * v[j * kw + g * headDim + e] }
                    dp[j] = s
                    dot += s * probs[pb + j]
                }
                for j in 0...i {
                    let p = probs[pb + j]
                    for e in 0..<headDim { dv[j * kw + g * headDim + e] += p * dout[i * qw + h * headDim + e] }
                    let ds = p * (dp[j] - dot) * scale
                    for e in 0..<headDim {
                        dq[i * qw + h * headDim + e] += ds * k[j * kw + g * headDim + e]
                        dk[j * kw + g * headDim + e] += ds * q[i * qw + h * headDim + e]
                    }
                }
            }
        }
        return (dq, dk, dv)
    }
}
