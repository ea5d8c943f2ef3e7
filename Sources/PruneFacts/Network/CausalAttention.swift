import Foundation

/// Causal multi-head attention with grouped key/value heads, forward with the probabilities saved,
/// and the backward to q, k and v. Rows may pack several sequences (`segments`, their lengths in
/// order): each attends only within itself, and the arithmetic per sequence is the same as alone.
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

    /// Where each segment starts: its first row and the offset of its probabilities.
    static func layout(_ segments: [Int], heads: Int) -> (rows: [Int], probs: [Int], total: Int) {
        var rows: [Int] = [], probs: [Int] = []
        var r = 0, p = 0
        for t in segments {
            rows.append(r)
            probs.append(p)
            r += t
            p += heads * t * t
        }
        return (rows, probs, p)
    }

    /// out [t, heads·hd] and the probabilities [heads, t, t] (row i: weights of positions 0…i).
    public func forward(q: [Float], k: [Float], v: [Float], rows t: Int) -> (out: [Float], probs: [Float]) {
        forward(q: q, k: k, v: v, segments: [t])
    }

    /// Packed sequences: out [Σt, heads·hd] and per segment its probabilities [heads, t, t], in order.
    public func forward(q: [Float], k: [Float], v: [Float], segments: [Int]) -> (out: [Float], probs: [Float]) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads
        let (starts, pstarts, ptotal) = Self.layout(segments, heads: heads)
        let rows = segments.reduce(0, +)
        var out = [Float](repeating: 0, count: rows * qw)
        var probs = [Float](repeating: 0, count: ptotal)
        var row = [Float](repeating: 0, count: segments.max() ?? 0)
        for (sIndex, t) in segments.enumerated() {
            let r0 = starts[sIndex], p0 = pstarts[sIndex]
            for h in 0..<heads {
                let g = h / group
                for i in 0..<t {
                    var mx = -Float.infinity
                    let qo = (r0 + i) * qw + h * headDim
                    for j in 0...i {
                        var s: Float = 0
                        let ko = (r0 + j) * kw + g * headDim
                        for e in 0..<headDim { s += q[qo + e] * k[ko + e] }
                        s *= scale
                        row[j] = s
                        mx = max(mx, s)
                    }
                    var z: Float = 0
                    for j in 0...i { row[j] = expf(row[j] - mx); z += row[j] }
                    let pb = p0 + (h * t + i) * t
                    for j in 0...i {
                        let p = row[j] / z
                        probs[pb + j] = p
                        let vo = (r0 + j) * kw + g * headDim
                        for e in 0..<headDim { out[qo + e] += p * v[vo + e] }
                    }
                }
            }
        }
        return (out, probs)
    }

    /// dq, dk, dv from dout.
    public func backward(dout: [Float], q: [Float], k: [Float], v: [Float], probs: [Float], rows t: Int)
        -> (dq: [Float], dk: [Float], dv: [Float]) {
        backward(dout: dout, q: q, k: k, v: v, probs: probs, segments: [t])
    }

    /// dq, dk, dv from dout on packed sequences.
    public func backward(dout: [Float], q: [Float], k: [Float], v: [Float], probs: [Float], segments: [Int])
        -> (dq: [Float], dk: [Float], dv: [Float]) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads
        let (starts, pstarts, _) = Self.layout(segments, heads: heads)
        let rows = segments.reduce(0, +)
        var dq = [Float](repeating: 0, count: rows * qw)
        var dk = [Float](repeating: 0, count: rows * kw)
        var dv = [Float](repeating: 0, count: rows * kw)
        var dp = [Float](repeating: 0, count: segments.max() ?? 0)
        for (sIndex, t) in segments.enumerated() {
            let r0 = starts[sIndex], p0 = pstarts[sIndex]
            for h in 0..<heads {
                let g = h / group
                for i in 0..<t {
                    let pb = p0 + (h * t + i) * t
                    let qo = (r0 + i) * qw + h * headDim
                    var dot: Float = 0
                    for j in 0...i {
                        var s: Float = 0
                        let vo = (r0 + j) * kw + g * headDim
                        for e in 0..<headDim { s += dout[qo + e] * v[vo + e] }
                        dp[j] = s
                        dot += s * probs[pb + j]
                    }
                    for j in 0...i {
                        let p = probs[pb + j]
                        let ko = (r0 + j) * kw + g * headDim
                        for e in 0..<headDim { dv[ko + e] += p * dout[qo + e] }
                        let ds = p * (dp[j] - dot) * scale
                        for e in 0..<headDim {
                            dq[qo + e] += ds * k[ko + e]
                            dk[ko + e] += ds * q[qo + e]
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }
}
