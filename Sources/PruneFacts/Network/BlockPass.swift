import PruneRuntime

/// One transformer block of the fact engine: the forward that saves its activations and the
/// backward to its input (weights frozen), for GPT-2 (LayerNorm, gelu) and the Llama family
/// (RMSNorm, RoPE, GQA, SwiGLU).
public struct BlockPass: Sendable {
    public let config: NetworkConfig
    public let layer: Int
    public let weights: BlockParameters
    /// Threads of the matrix products (their results do not depend on it).
    public var threads: Int

    public init(config: NetworkConfig, layer: Int, weights: BlockParameters, threads: Int = 1) {
        self.config = config
        self.layer = layer
        self.weights = weights
        self.threads = threads
    }

    var attention: CausalAttention {
        var s = config.attentionScale
        if config.scaleAttentionByInverseLayer { s /= Float(layer + 1) }
        return CausalAttention(heads: config.headCount, kvHeads: config.kvHeadCount, headDim: config.headDim, scale: s, threads: threads)
    }

    var rope: RotaryEmbedding? {
        config.ropeInverseFrequencies.map { RotaryEmbedding(inverseFrequencies: $0, headDim: config.headDim) }
    }

    public func forward(_ x: [Float], rows t: Int) -> BlockActivations { forward(x, segments: [t]) }

    /// The forward on packed sequences (rows of consecutive segments; attention and positions per
    /// segment). `keyOnly` stops at the key (`mlpOutput` and `output` empty).
    public func forward(_ x: [Float], segments: [Int], keyOnly: Bool = false) -> BlockActivations {
        let d = config.hiddenSize, w = weights, t = segments.reduce(0, +), th = threads
        let n1 = Norms.forward(x, rows: t, width: d, w.attentionNorm, epsilon: config.normEpsilon)
        var q = w.query.forward(n1.y, rows: t, threads: th)
        var k = w.key.forward(n1.y, rows: t, threads: th)
        let v = w.value.forward(n1.y, rows: t, threads: th)
        if let r = rope {
            r.apply(&q, segments: segments, heads: config.headCount)
            r.apply(&k, segments: segments, heads: config.kvHeadCount)
        }
        let (att, probs) = attention.forward(q: q, k: k, v: v, segments: segments)
        let o = w.attentionOutput.forward(att, rows: t, threads: th)
        var mid = x
        for i in 0..<mid.count { mid[i] += o[i] }
        let n2 = Norms.forward(mid, rows: t, width: d, w.mlpNorm, epsilon: config.normEpsilon)
        var pre: [Float], up: [Float] = [], key: [Float]
        if let gate = w.gate {
            pre = gate.forward(n2.y, rows: t, threads: th)
            up = w.up.forward(n2.y, rows: t, threads: th)
            key = [Float](repeating: 0, count: pre.count)
            for i in 0..<key.count { key[i] = Activations.silu(pre[i]) * up[i] }
        } else if config.activation == .geluTanh {
            pre = w.up.forward(n2.y, rows: t, threads: th)
            up = pre.map(Activations.geluTanh)
            key = [Float](repeating: 0, count: pre.count)
            for i in 0..<key.count { key[i] = Activations.gelu(pre[i], tanh: up[i]) }
        } else {
            // Another `activation_function`: the runtime's own function (and derivative, below).
            pre = w.up.forward(n2.y, rows: t, threads: th)
            key = pre
            PruneRuntime.Activations.apply(config.activation, &key)
        }
        if keyOnly {
            return BlockActivations(rows: t, segments: segments, input: x, norm1: (n1.normalized, n1.rstd), q: q, k: k, v: v,
                                    probs: probs, mid: mid, norm2: (n2.normalized, n2.rstd), preActivation: pre, up: up,
                                    key: key, mlpOutput: [], output: [])
        }
        let mlp = w.down.forward(key, rows: t, threads: th)
        var out = mid
        for i in 0..<out.count { out[i] += mlp[i] }
        return BlockActivations(rows: t, segments: segments, input: x, norm1: (n1.normalized, n1.rstd), q: q, k: k, v: v, probs: probs,
                                mid: mid, norm2: (n2.normalized, n2.rstd), preActivation: pre, up: up, key: key,
                                mlpOutput: mlp, output: out)
    }

    /// d(input) from d(output).
    public func backward(_ dout: [Float], _ a: BlockActivations) -> [Float] {
        let d = config.hiddenSize, t = a.rows, w = weights, th = threads
        var dmid = dout
        let dkey = w.down.backward(dout, rows: t, threads: th)
        var dn2 = [Float](repeating: 0, count: t * d)
        if let gate = w.gate {
            var dg = [Float](repeating: 0, count: dkey.count), du = dg
            for i in 0..<dkey.count {
                dg[i] = dkey[i] * a.up[i] * Activations.siluDerivative(a.preActivation[i])
                du[i] = dkey[i] * Activations.silu(a.preActivation[i])
            }
            gate.backward(dg, rows: t, into: &dn2, accumulate: false, threads: th)
            w.up.backward(du, rows: t, into: &dn2, accumulate: true, threads: th)
        } else {
            var da = dkey
            if config.activation == .geluTanh {
                for i in 0..<da.count { da[i] *= Activations.geluDerivative(a.preActivation[i], tanh: a.up[i]) }
            } else {
                for i in 0..<da.count { da[i] *= PruneRuntime.Activations.derivative(config.activation, at: a.preActivation[i]) }
            }
            w.up.backward(da, rows: t, into: &dn2, accumulate: false, threads: th)
        }
        let dm = Norms.backward(dn2, normalized: a.norm2.normalized, rstd: a.norm2.rstd, rows: t, width: d, w.mlpNorm)
        for i in 0..<dmid.count { dmid[i] += dm[i] }
        let datt = w.attentionOutput.backward(dmid, rows: t, threads: th)
        var (dq, dk, dv) = attention.backward(dout: datt, q: a.q, k: a.k, v: a.v, probs: a.probs, segments: a.segments)
        if let r = rope {
            r.apply(&dq, segments: a.segments, heads: config.headCount, inverse: true)
            r.apply(&dk, segments: a.segments, heads: config.kvHeadCount, inverse: true)
        }
        var dn1 = [Float](repeating: 0, count: t * d)
        w.query.backward(dq, rows: t, into: &dn1, accumulate: false, threads: th)
        w.key.backward(dk, rows: t, into: &dn1, accumulate: true, threads: th)
        w.value.backward(dv, rows: t, into: &dn1, accumulate: true, threads: th)
        let dx1 = Norms.backward(dn1, normalized: a.norm1.normalized, rstd: a.norm1.rstd, rows: t, width: d, w.attentionNorm)
        var dx = dmid
        for i in 0..<dx.count { dx[i] += dx1[i] }
        return dx
    }
}
