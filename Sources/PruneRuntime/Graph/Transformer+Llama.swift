extension Transformer {
    /// A Llama-family block:
    ///   h = RMS₁(x); q = RoPE(h·W_qᵀ); k = RoPE(h·W_kᵀ); v = h·W_vᵀ
    ///   a = attention(q, k, v) (grouped-query)·W_oᵀ; m = x + a
    ///   h₂ = RMS₂(m); key = silu(h₂·W_gateᵀ) ⊙ (h₂·W_upᵀ); o = key·W_downᵀ; y = m + o
    func llamaBlock(_ l: Int, _ x: [Float], layout: BatchLayout, rope: RopeTable, caches: [KVCache]?, hooks: ForwardHooks?,
                    trace: Bool, workspace: Workspace) throws -> ([Float], BlockTrace?) {
        let w = weights.layers[l]
        let n = layout.rows, d = config.hiddenSize, f = config.ffnSize
        let qw = config.queryWidth, kvw = config.kvWidth, hd = config.headDim
        var h = [Float](repeating: 0, count: n * d)
        let stats1 = norm(x, rows: n, w.attentionNorm, into: &h)
        var q = Linear.forward(h, rows: n, weight: w.query!, bias: w.queryBias, workspace: workspace)
        var k = Linear.forward(h, rows: n, weight: w.key!, bias: w.keyBias, workspace: workspace)
        let v = Linear.forward(h, rows: n, weight: w.value!, bias: w.valueBias, workspace: workspace)
        q.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, rows: n, ld: qw, heads: config.headCount, headDim: hd) }
        k.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, rows: n, ld: kvw, heads: config.kvHeadCount, headDim: hd) }
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
        let mid = added(x, a)
        var h2 = [Float](repeating: 0, count: n * d)
        let stats2 = norm(mid, rows: n, w.mlpNorm, into: &h2)
        let gate = Linear.forward(h2, rows: n, weight: w.gate!, bias: w.gateBias, workspace: workspace)
        let up = Linear.forward(h2, rows: n, weight: w.up, bias: w.upBias, workspace: workspace)
        var key = Activations.swiGLU(gate: gate, up: up)
        try hooks?.run(.mlpKey(layer: l), &key, cols: f, layout: layout)
        var o = Linear.forward(key, rows: n, weight: w.down, bias: w.downBias, workspace: workspace)
        try hooks?.run(.mlpOutput(layer: l), &o, cols: d, layout: layout)
        var y = added(mid, o)
        var saved: BlockTrace?
        if trace {
            saved = BlockTrace(
                input: FloatMatrix(rows: n, cols: d, values: x), attentionNormStatistics: stats1,
                attentionNormed: FloatMatrix(rows: n, cols: d, values: h),
                query: FloatMatrix(rows: n, cols: qw, values: q), key: FloatMatrix(rows: n, cols: kvw, values: k),
                value: FloatMatrix(rows: n, cols: kvw, values: v), attentionProbabilities: probs,
                attentionContext: FloatMatrix(rows: n, cols: qw, values: context),
                attentionOutput: FloatMatrix(rows: n, cols: d, values: a), middle: FloatMatrix(rows: n, cols: d, values: mid),
                mlpNormStatistics: stats2, mlpNormed: FloatMatrix(rows: n, cols: d, values: h2),
                preActivation: FloatMatrix(rows: n, cols: f, values: gate), up: FloatMatrix(rows: n, cols: f, values: up),
                mlpKey: FloatMatrix(rows: n, cols: f, values: key), mlpOutput: FloatMatrix(rows: n, cols: d, values: o),
                output: FloatMatrix(rows: n, cols: d, values: y))
        }
        try hooks?.run(.blockOutput(layer: l), &y, cols: d, layout: layout)
        return (y, saved)
    }
}
