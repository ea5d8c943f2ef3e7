extension Transformer {
    /// The attention core of block `l`: appends this batch's keys and values to the caches (if
    /// any), then softmax(scale·q·kᵀ)·v per (sequence, head). Returns the context [rows × heads·headDim]
    /// and, when `trace`, the attention weights.
    func attention(layer l: Int, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
                   layout: BatchLayout, caches: [KVCache]?, trace: Bool, workspace: Workspace) -> ([Float], [[Float]]) {
        var kv: [AttentionKernel.KeyValues] = []
        kv.reserveCapacity(layout.sequences.count)
        for (s, seq) in layout.sequences.enumerated() {
            if let c = caches?[s] {
                c.store(layer: l, keys: k + seq.firstRow * ldkv, ldk: ldkv, values: v + seq.firstRow * ldkv, ldv: ldkv, rows: seq.count)
                kv.append(c.keyValues(layer: l, count: seq.past + seq.count))
            } else {
                kv.append(AttentionKernel.KeyValues(keys: k + seq.firstRow * ldkv, values: v + seq.firstRow * ldkv, ld: ldkv, count: seq.count))
            }
        }
        let width = config.queryWidth
        var context = [Float](repeating: 0, count: layout.rows * width)
        var scale = config.attentionScale
        if config.scaleAttentionByInverseLayer { scale /= Float(l + 1) }
        let probabilities = trace ? UnsafeMutableSendableArray<[Float]>(count: layout.sequences.count * config.headCount) : nil
        context.withUnsafeMutableBufferPointer { out in
            AttentionKernel.forward(q: q, ldq: ldq, layout: layout, kv: kv, heads: config.headCount, kvHeads: config.kvHeadCount,
                                    headDim: config.headDim, scale: scale, window: config.window(layer: l), softcap: config.attentionSoftcap,
                                    out: out.baseAddress!, ldo: width,
                                    probabilities: probabilities, workspace: workspace)
        }
        withExtendedLifetime(caches) {}
        let probs = probabilities.map { p in (0..<p.count).map { p[$0] ?? [] } } ?? []
        return (context, probs)
    }
}

/// Element-wise sum of two equal-length arrays.
@inline(__always) func added(_ a: [Float], _ b: [Float]) -> [Float] {
    var out = a
    out.withUnsafeMutableBufferPointer { o in b.withUnsafeBufferPointer { bp in for i in o.indices { o[i] += bp[i] } } }
    return out
}
