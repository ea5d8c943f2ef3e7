extension Transformer {
    /// A GPT-2 block:
    ///   h = LN₁(x); q|k|v = h·W_attnᵀ + b; a = attention(q, k, v)·W_projᵀ + b; m = x + a
    ///   h₂ = LN₂(m); u = h₂·W_fcᵀ + b; key = gelu(u); o = key·W_projᵀ + b; y = m + o
    func gpt2Block(_ l: Int, _ x: [Float], layout: BatchLayout, caches: [KVCache]?, hooks: ForwardHooks?,
                   trace: Bool, workspace: Workspace) throws -> ([Float], BlockTrace?) {
        let w = weights.layers[l]
        let n = layout.rows, d = config.hiddenSize, f = config.ffnSize
        var h = [Float](repeating: 0, count: n * d)
        let stats1 = norm(x, rows: n, w.attentionNorm, into: &h)
        let qkv = Linear.forward(h, rows: n, weight: w.qkv!, bias: w.qkvBias, workspace: workspace)
        let (context, probs) = qkv.withUnsafeBufferPointer { p in
            attention(layer: l, q: p.baseAddress!, ldq: 3 * d, k: p.baseAddress! + d, v: p.baseAddress! + 2 * d, ldkv: 3 * d,
                      layout: layout, caches: caches, trace: trace, workspace: workspace)
        }
        var a = Linear.forward(context, rows: n, weight: w.attentionOutput, bias: w.attentionOutputBias, workspace: workspace)
        try hooks?.run(.attentionOutput(layer: l), &a, cols: d, layout: layout)
        let mid = added(x, a)
        var h2 = [Float](repeating: 0, count: n * d)
        let stats2 = norm(mid, rows: n, w.mlpNorm, into: &h2)
        let u = Linear.forward(h2, rows: n, weight: w.up, bias: w.upBias, workspace: workspace)
        var key = u
        Activations.apply(config.activation, &key)
        try hooks?.run(.mlpKey(layer: l), &key, cols: f, layout: layout)
        var o = Linear.forward(key, rows: n, weight: w.down, bias: w.downBias, workspace: workspace)
        try hooks?.run(.mlpOutput(layer: l), &o, cols: d, layout: layout)
        var y = added(mid, o)
        var saved: BlockTrace?
        if trace {
            func part(_ offset: Int) -> FloatMatrix {
                var out = [Float](repeating: 0, count: n * d)
                for r in 0..<n { for j in 0..<d { out[r * d + j] = qkv[r * 3 * d + offset + j] } }
                return FloatMatrix(rows: n, cols: d, values: out)
            }
            saved = BlockTrace(
                input: FloatMatrix(rows: n, cols: d, values: x), attentionNormStatistics: stats1,
                attentionNormed: FloatMatrix(rows: n, cols: d, values: h),
                query: part(0), key: part(d), value: part(2 * d), attentionProbabilities: probs,
                attentionContext: FloatMatrix(rows: n, cols: d, values: context),
                attentionOutput: FloatMatrix(rows: n, cols: d, values: a), middle: FloatMatrix(rows: n, cols: d, values: mid),
                mlpNormStatistics: stats2, mlpNormed: FloatMatrix(rows: n, cols: d, values: h2),
                preActivation: FloatMatrix(rows: n, cols: f, values: u), up: nil,
                mlpKey: FloatMatrix(rows: n, cols: f, values: key), mlpOutput: FloatMatrix(rows: n, cols: d, values: o),
                output: FloatMatrix(rows: n, cols: d, values: y))
        }
        try hooks?.run(.blockOutput(layer: l), &y, cols: d, layout: layout)
        return (y, saved)
    }
}
