/// The backward passes the editors need: gradients with respect to the residual stream, weights
/// frozen. Each is its forward's steps in reverse, from the activations the forward saved.
extension Transformer {
    /// d(input) of block `layer` from d(output), from the block's `trace` of a forward on `layout`
    /// (without a KV cache). Hooks that add to the activations do not change the derivative.
    /// The steps of `block` in reverse (bracketed steps where the recipe has them):
    ///   y = m + [norm](o);  o = key·W_downᵀ;  key = act(u) or act(gate)⊙up (gate|up fused or not);  u|gate|up = h₂·Wᵀ
    ///   h₂ = norm₂(m);  m = x + [norm](a);  a = context·W_oᵀ;  context = attention(q, k, v) [softcapped, windowed]
    ///   q, k = RoPE(…) (the layer's table);  [q, k = RMS per head];  q|k|v = h·Wᵀ (fused or not);  h = norm₁(x)
    public func blockBackward(_ layer: Int, _ dOutput: FloatMatrix, trace t: BlockTrace, layout: BatchLayout) throws -> FloatMatrix {
        guard layer >= 0, layer < config.layerCount else { throw RuntimeError.badLayer(layer: layer, layerCount: config.layerCount) }
        let n = layout.rows, d = config.hiddenSize, f = config.ffnSize
        guard dOutput.rows == n, dOutput.cols == d, t.input.rows == n else {
            throw RuntimeError.badArgument("gradient of \(dOutput.rows) × \(dOutput.cols) for a block trace of \(t.input.rows) rows of width \(d) (block \(layer) backward)")
        }
        let w = weights.layers[layer], ws = Workspace(threads: threads)
        let qw = config.queryWidth, kvw = config.kvWidth, hd = config.headDim
        // y = m + o′: d m starts as d y.
        var dmid = dOutput.values
        // [o′ = norm(o)] (sandwich)
        var dO = dmid
        if let pn = w.mlpPostNorm, let s = t.mlpPostNormStatistics {
            dO = normBackward(dmid, input: t.mlpOutput.values, rows: n, pn, statistics: s)
        }
        // o = key·W_downᵀ + b
        let dkey = backwardInput(dO, rows: n, weight: w.down, workspace: ws)
        // key = act(u) (plain) or act(gate) ⊙ up (gated); u|gate|up = h₂·Wᵀ + b
        var dh2: [Float]
        switch config.recipe.feedForward {
        case .gated:
            guard let up = t.up else { throw RuntimeError.badArgument("block \(layer)'s trace has no up projection (block backward)") }
            let (dg, du) = Activations.gatedBackward(config.activation, dkey, gate: t.preActivation.values, up: up.values,
                                                    part: t.activationPart?.values)
            if let gate = w.gate {
                dh2 = added(backwardInput(dg, rows: n, weight: gate, workspace: ws), backwardInput(du, rows: n, weight: w.up, workspace: ws))
            } else {
                // One fused gate|up projection (Phi-3): its output gradient is [d gate | d up] per row.
                var dfused = [Float](repeating: 0, count: n * 2 * f)
                for r in 0..<n {
                    for j in 0..<f { dfused[r * 2 * f + j] = dg[r * f + j]; dfused[r * 2 * f + f + j] = du[r * f + j] }
                }
                dh2 = backwardInput(dfused, rows: n, weight: w.up, workspace: ws)
            }
        case .plain:
            dh2 = backwardInput(Activations.backward(config.activation, dkey, input: t.preActivation.values,
                                                               part: t.activationPart?.values), rows: n, weight: w.up, workspace: ws)
        }
        // h₂ = norm₂(m); m = x + a′
        dmid = added(dmid, normBackward(dh2, input: t.middle.values, rows: n, w.mlpNorm, statistics: t.mlpNormStatistics))
        // [a′ = norm(a)] (sandwich)
        var dA = dmid
        if let pn = w.attentionPostNorm, let s = t.attentionPostNormStatistics {
            dA = normBackward(dmid, input: t.attentionOutput.values, rows: n, pn, statistics: s)
        }
        // a = context·W_oᵀ + b
        let dcontext = backwardInput(dA, rows: n, weight: w.attentionOutput, workspace: ws)
        // context = attention(q, k, v)
        var dq = [Float](repeating: 0, count: n * qw), dk = [Float](repeating: 0, count: n * kvw), dv = dk
        var scale = config.attentionScale
        if config.scaleAttentionByInverseLayer { scale /= Float(layer + 1) }
        dcontext.withUnsafeBufferPointer { dop in t.query.values.withUnsafeBufferPointer { qp in
        t.key.values.withUnsafeBufferPointer { kp in t.value.values.withUnsafeBufferPointer { vp in
        dq.withUnsafeMutableBufferPointer { dqp in dk.withUnsafeMutableBufferPointer { dkp in dv.withUnsafeMutableBufferPointer { dvp in
            AttentionKernel.backward(dout: dop.baseAddress!, lddo: qw, q: qp.baseAddress!, ldq: qw, k: kp.baseAddress!, v: vp.baseAddress!,
                                     ldkv: kvw, probabilities: t.attentionProbabilities, layout: layout, heads: config.headCount,
                                     kvHeads: config.kvHeadCount, headDim: hd, scale: scale, softcap: config.attentionSoftcap,
                                     dq: dqp.baseAddress!, dk: dkp.baseAddress!, dv: dvp.baseAddress!, workspace: ws)
        }}}}}}}
        // q, k = RoPE(…): the inverse rotation, with the layer's own table
        if let table = ropeTable(layer: layer, global: config.rope.map { RopeTable(positions: layout.positions, rope: $0) }, layout: layout) {
            dq.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, rows: n, ld: qw, heads: config.headCount, headDim: hd, inverse: true) }
            dk.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, rows: n, ld: kvw, heads: config.kvHeadCount, headDim: hd, inverse: true) }
        }
        // [q, k = RMS per head] (QK-norm)
        if let qn = w.queryNorm, let kn = w.keyNorm, let qp = t.queryProjected, let kp = t.keyProjected,
           let qs = t.queryNormStatistics, let ks = t.keyNormStatistics {
            dq = Norms.rmsNormBackward(dq, input: qp.values, rows: n * config.headCount, width: hd, weights: qn, statistics: qs)
            dk = Norms.rmsNormBackward(dk, input: kp.values, rows: n * config.kvHeadCount, width: hd, weights: kn, statistics: ks)
        }
        // q|k|v = h·Wᵀ + b (fused or split)
        let dh: [Float]
        if let qkv = w.qkv {
            let width = qw + 2 * kvw
            var dqkv = [Float](repeating: 0, count: n * width)
            for r in 0..<n {
                for j in 0..<qw { dqkv[r * width + j] = dq[r * qw + j] }
                for j in 0..<kvw { dqkv[r * width + qw + j] = dk[r * kvw + j]; dqkv[r * width + qw + kvw + j] = dv[r * kvw + j] }
            }
            dh = backwardInput(dqkv, rows: n, weight: qkv, workspace: ws)
        } else if let wq = w.query, let wk = w.key, let wv = w.value {
            dh = added(added(backwardInput(dq, rows: n, weight: wq, workspace: ws), backwardInput(dk, rows: n, weight: wk, workspace: ws)),
                       backwardInput(dv, rows: n, weight: wv, workspace: ws))
        } else {
            throw RuntimeError.badArgument("block \(layer) has neither a fused nor separate q/k/v projections (block backward)")
        }
        // h = norm₁(x); x feeds both the norm and the residual
        let dx = added(dmid, normBackward(dh, input: t.input.values, rows: n, w.attentionNorm, statistics: t.attentionNormStatistics))
        return FloatMatrix(rows: n, cols: d, values: dx)
    }

    /// d(residual after the last block) [rows × d] from d(logits) of the rows `logitRows` of the batch
    /// (one row of `dLogits` each, as `ForwardResult.logitPositions` lists them): the head's and the
    /// final norm's backward, from the forward's residual stream and final-norm statistics.
    public func headBackward(_ dLogits: FloatMatrix, of result: ForwardResult) throws -> FloatMatrix {
        let d = config.hiddenSize, rows = result.logitPositions.count
        guard dLogits.rows == rows, dLogits.cols == config.vocabularySize else {
            throw RuntimeError.badArgument("gradient of \(dLogits.rows) × \(dLogits.cols) for \(rows) logit rows of \(config.vocabularySize) (head backward)")
        }
        let ws = Workspace(threads: threads)
        var dl = dLogits.values
        if let cap = config.finalLogitSoftcap, result.logits.values.count == dl.count {
            // logits = cap·tanh(raw/cap): d raw = d logits · (1 − (logits/cap)²).
            for i in dl.indices { let c = result.logits.values[i] / cap; dl[i] *= 1 - c * c }
        }
        let dnormed = backwardInput(dl, rows: rows, weight: weights.output, workspace: ws)
        let batchRows = try result.logitPositions.map { p -> Int in
            guard let r = result.layout.row(sequence: p.sequence, position: p.position) else {
                throw RuntimeError.badPosition(sequence: p.sequence, position: p.position, length: 0)
            }
            return r
        }
        let x = result.residual.gathering(rows: batchRows)
        let stats = NormStatistics(mean: batchRows.map { result.finalNormStatistics.mean[$0] },
                                   inverseDeviation: batchRows.map { result.finalNormStatistics.inverseDeviation[$0] })
        let dx = normBackward(dnormed, input: x.values, rows: rows, weights.outputNorm, statistics: stats)
        var out = FloatMatrix(rows: result.layout.rows, cols: d)
        for (i, r) in batchRows.enumerated() { for j in 0..<d { out.values[r * d + j] += dx[i * d + j] } }
        return out
    }

    /// d(residual entering block `first`) from d(residual after the last traced block), through the
    /// blocks `first ..< first + count` whose traces a forward on `layout` saved.
    public func backward(_ dOutput: FloatMatrix, blocks: Range<Int>, traces: [Int: BlockTrace], layout: BatchLayout) throws -> FloatMatrix {
        var g = dOutput
        for l in blocks.reversed() {
            guard let t = traces[l] else { throw RuntimeError.badArgument("no trace of block \(l) (backward)") }
            g = try blockBackward(l, g, trace: t, layout: layout)
        }
        return g
    }

    /// What the MLP's output `o` [rows × d] of block `layer` adds to the residual stream: `o` itself,
    /// or its sandwich norm (Gemma), with that norm's statistics. ROME's δ is added to `o`, the down
    /// projection's output, so the editors need this step and its backward on their own.
    public func mlpContribution(layer: Int, _ o: [Float], rows: Int) -> (value: [Float], statistics: NormStatistics?) {
        guard let pn = weights.layers[layer].mlpPostNorm else { return (o, nil) }
        let p = postNorm(o, rows: rows, pn)
        return (p.normed, p.statistics)
    }

    /// d o from d(contribution), with the `o` and statistics `mlpContribution` used.
    public func mlpContributionBackward(layer: Int, _ dy: [Float], output o: [Float], rows: Int, statistics: NormStatistics?) -> [Float] {
        guard let pn = weights.layers[layer].mlpPostNorm, let s = statistics else { return dy }
        return normBackward(dy, input: o, rows: rows, pn, statistics: s)
    }

    func normBackward(_ dy: [Float], input x: [Float], rows: Int, _ w: NormWeights, statistics: NormStatistics) -> [Float] {
        switch config.recipe.norm {
        case .layerNorm: return Norms.layerNormBackward(dy, input: x, rows: rows, width: config.hiddenSize, weights: w, statistics: statistics)
        case .rmsNorm: return Norms.rmsNormBackward(dy, input: x, rows: rows, width: config.hiddenSize, weights: w, statistics: statistics)
        }
    }

    func backwardInput(_ dy: [Float], rows: Int, weight: WeightMatrix, workspace: Workspace) -> [Float] {
        var dx = [Float](repeating: 0, count: rows * weight.cols)
        dy.withUnsafeBufferPointer { g in
            dx.withUnsafeMutableBufferPointer { Linear.backwardInput(g.baseAddress!, rows: rows, weight: weight, into: $0.baseAddress!, workspace: workspace) }
        }
        return dx
    }
}
