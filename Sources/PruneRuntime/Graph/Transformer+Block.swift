extension Transformer {
    /// One block of any family, step by step as its recipe says (`config.recipe`, from
    /// `Architectures/<Family>.swift`):
    ///   h = norm₁(x); q, k, v = h·W_qᵀ + b, h·W_kᵀ + b, h·W_vᵀ + b   (one fused product where the file fuses them)
    ///   [QK-norm: q, k = RMS per head]; [RoPE on q, k: the layer's own base on local layers]
    ///   c = attention(q, k, v)   (grouped-query; causal, within the layer's window; softcapped scores)
    ///   a = c·W_oᵀ + b; [sandwich: a = norm(a)]; m = x + a
    ///   h₂ = norm₂(m); key = act(h₂·W_gateᵀ) ⊙ (h₂·W_upᵀ)  (gated)  or  act(h₂·W_upᵀ)  (plain)
    ///   o = key·W_downᵀ + b; [sandwich: o = norm(o)]; y = m + o
    /// Hooks see the attention output and the MLP output before their sandwich norms (the
    /// projections' outputs, which the editors change), and the key.
    func block(_ l: Int, _ x: [Float], layout: BatchLayout, rope: RopeTable?, caches: [KVCache]?, hooks: ForwardHooks?,
               trace: Bool, workspace: Workspace) throws -> ([Float], BlockTrace?) {
        let w = weights.layers[l]
        let c = config
        let n = layout.rows, d = c.hiddenSize, f = c.ffnSize
        let qw = c.queryWidth, kvw = c.kvWidth, hd = c.headDim
        var h = [Float](repeating: 0, count: n * d)
        let stats1 = norm(x, rows: n, w.attentionNorm, into: &h)
        var q: [Float], k: [Float], v: [Float]
        if let qkv = w.qkv {
            let fused = Linear.forward(h, rows: n, weight: qkv, bias: w.qkvBias, workspace: workspace)
            (q, k, v) = Self.split(fused, rows: n, widths: (qw, kvw, kvw))
        } else {
            q = Linear.forward(h, rows: n, weight: w.query!, bias: w.queryBias, workspace: workspace)
            k = Linear.forward(h, rows: n, weight: w.key!, bias: w.keyBias, workspace: workspace)
            v = Linear.forward(h, rows: n, weight: w.value!, bias: w.valueBias, workspace: workspace)
        }
        var qkNormed: (query: [Float], key: [Float], queryStatistics: NormStatistics, keyStatistics: NormStatistics)?
        if let qn = w.queryNorm, let kn = w.keyNorm {
            let qp = q, kp = k
            let qs = Norms.rmsNorm(qp, rows: n * c.headCount, width: hd, weights: qn, epsilon: c.normEpsilon, into: &q)
            let ks = Norms.rmsNorm(kp, rows: n * c.kvHeadCount, width: hd, weights: kn, epsilon: c.normEpsilon, into: &k)
            qkNormed = (qp, kp, qs, ks)
        }
        if let table = ropeTable(layer: l, global: rope, layout: layout) {
            q.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, rows: n, ld: qw, heads: c.headCount, headDim: hd) }
            k.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, rows: n, ld: kvw, heads: c.kvHeadCount, headDim: hd) }
        }
        let (context, probs) = q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    attention(layer: l, q: qp.baseAddress!, ldq: qw, k: kp.baseAddress!, v: vp.baseAddress!, ldkv: kvw,
                              layout: layout, caches: caches, trace: trace, workspace: workspace)
                }
            }
        }
        var a = Linear.forward(context, rows: n, weight: w.attentionOutput, bias: w.attentionOutputBias, workspace: workspace)
        try hooks?.run(.attentionOutput(layer: l), &a, cols: d, layout: layout)
        let attentionPost = w.attentionPostNorm.map { postNorm(a, rows: n, $0) }
        let mid = added(x, attentionPost?.normed ?? a)
        var h2 = [Float](repeating: 0, count: n * d)
        let stats2 = norm(mid, rows: n, w.mlpNorm, into: &h2)
        var pre: [Float], up: [Float]?
        var key: [Float], part: [Float]?
        switch c.recipe.feedForward {
        case .gated:
            if let gate = w.gate {
                pre = Linear.forward(h2, rows: n, weight: gate, bias: w.gateBias, workspace: workspace)
                up = Linear.forward(h2, rows: n, weight: w.up, bias: w.upBias, workspace: workspace)
            } else {
                let fused = Linear.forward(h2, rows: n, weight: w.up, bias: w.upBias, workspace: workspace)
                let parts = Self.split(fused, rows: n, widths: (f, f, 0))
                (pre, up) = (parts.0, parts.1)
            }
            (key, part) = Activations.gated(c.activation, gate: pre, up: up!, saving: trace)
        case .plain:
            pre = Linear.forward(h2, rows: n, weight: w.up, bias: w.upBias, workspace: workspace)
            key = pre
            part = Activations.apply(c.activation, &key, saving: trace)
        }
        try hooks?.run(.mlpKey(layer: l), &key, cols: f, layout: layout)
        var o = Linear.forward(key, rows: n, weight: w.down, bias: w.downBias, workspace: workspace)
        try hooks?.run(.mlpOutput(layer: l), &o, cols: d, layout: layout)
        let mlpPost = w.mlpPostNorm.map { postNorm(o, rows: n, $0) }
        var y = added(mid, mlpPost?.normed ?? o)
        var saved: BlockTrace?
        if trace {
            func m(_ values: [Float], _ cols: Int) -> FloatMatrix { FloatMatrix(rows: n, cols: cols, values: values) }
            saved = BlockTrace(
                input: m(x, d), attentionNormStatistics: stats1, attentionNormed: m(h, d),
                query: m(q, qw), key: m(k, kvw), value: m(v, kvw), attentionProbabilities: probs,
                attentionContext: m(context, qw), attentionOutput: m(a, d), middle: m(mid, d),
                mlpNormStatistics: stats2, mlpNormed: m(h2, d),
                preActivation: m(pre, f), activationPart: part.map { m($0, f) }, up: up.map { m($0, f) },
                mlpKey: m(key, f), mlpOutput: m(o, d), output: m(y, d),
                queryProjected: qkNormed.map { m($0.query, qw) }, queryNormStatistics: qkNormed?.queryStatistics,
                keyProjected: qkNormed.map { m($0.key, kvw) }, keyNormStatistics: qkNormed?.keyStatistics,
                attentionPostNormed: attentionPost.map { m($0.normed, d) }, attentionPostNormStatistics: attentionPost?.statistics,
                mlpPostNormed: mlpPost.map { m($0.normed, d) }, mlpPostNormStatistics: mlpPost?.statistics)
        }
        try hooks?.run(.blockOutput(layer: l), &y, cols: d, layout: layout)
        return (y, saved)
    }

    /// A sandwich norm of `x` [rows × d]: the normed rows and the statistics.
    func postNorm(_ x: [Float], rows n: Int, _ w: NormWeights) -> (normed: [Float], statistics: NormStatistics) {
        var y = [Float](repeating: 0, count: x.count)
        let s = norm(x, rows: n, w, into: &y)
        return (y, s)
    }

    /// The rotary table of layer `l`: the global one, or the local RoPE's on the local layers of a
    /// family that has one (Gemma 3).
    func ropeTable(layer l: Int, global: RopeTable?, layout: BatchLayout) -> RopeTable? {
        if let local = config.localRope, config.window(layer: l) != nil { return RopeTable(positions: layout.positions, rope: local) }
        return global
    }

    /// The column blocks of a fused product [rows × (w0 + w1 + w2)], each contiguous.
    static func split(_ fused: [Float], rows n: Int, widths: (Int, Int, Int)) -> ([Float], [Float], [Float]) {
        let (w0, w1, w2) = widths
        let ld = w0 + w1 + w2
        var a = [Float](repeating: 0, count: n * w0), b = [Float](repeating: 0, count: n * w1), c = [Float](repeating: 0, count: n * w2)
        for r in 0..<n {
            let base = r * ld
            for j in 0..<w0 { a[r * w0 + j] = fused[base + j] }
            for j in 0..<w1 { b[r * w1 + j] = fused[base + w0 + j] }
            for j in 0..<w2 { c[r * w2 + j] = fused[base + w0 + w1 + j] }
        }
        return (a, b, c)
    }
}
