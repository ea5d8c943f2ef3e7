/// Forward entry points of the editors: part of the blocks, with traces.
extension Transformer {
    /// Runs the embedding and blocks 0…`layer` on `tokens` (one array per sequence, packed as
    /// `BatchLayout(lengths:)`, no KV cache) and stops: the saved activations of block `layer` (its
    /// key, MLP output and output are what ROME and MEMIT read).
    public func run(_ tokens: [[Int32]], through layer: Int, hooks: ForwardHooks? = nil) throws -> (trace: BlockTrace, layout: BatchLayout) {
        guard layer >= 0, layer < config.layerCount else { throw RuntimeError.badLayer(layer: layer, layerCount: config.layerCount) }
        let (embedded, layout) = try embed(tokens)
        var x = embedded.values
        try hooks?.run(.embedding, &x, cols: config.hiddenSize, layout: layout)
        let workspace = Workspace(threads: threads)
        let rope = config.rope.map { RopeTable(positions: layout.positions, rope: $0) }
        var last: BlockTrace?
        for l in 0...layer {
            let (y, t) = try block(l, x, layout: layout, rope: rope, caches: nil, hooks: hooks, trace: l == layer, workspace: workspace)
            x = y
            last = t
        }
        guard let last else { throw RuntimeError.badLayer(layer: layer, layerCount: config.layerCount) }
        return (last, layout)
    }

    /// The same transformer with some block matrices replaced by f32 `values` ([output features,
    /// input features], as `ModelWeights.values` gives them); every other weight is shared, not copied.
    /// The original is unchanged.
    public func replacing(_ replacements: [(role: MatrixRole, layer: Int, values: FloatMatrix)], threads: Int? = nil) throws -> Transformer {
        var layers = weights.layers
        for r in replacements {
            let m = try weights.matrix(r.role, layer: r.layer)
            guard r.values.rows == m.rows, r.values.cols == m.cols else {
                throw RuntimeError.badArgument("replacement for \(r.role.rawValue) of layer \(r.layer) is \(r.values.rows) × \(r.values.cols), the matrix is \(m.rows) × \(m.cols) (matrix shape)")
            }
            layers[r.layer].setMatrix(r.role, WeightMatrix(name: m.name, rows: m.rows, cols: m.cols, values: r.values.values))
        }
        let w = ModelWeights(config: config, tokenEmbedding: weights.tokenEmbedding, positionEmbedding: weights.positionEmbedding,
                             outputNorm: weights.outputNorm, output: weights.output, layers: layers, names: weights.names, store: weights.store)
        return Transformer(weights: w, threads: threads ?? self.threads)
    }

    /// The same transformer (weights shared) running its kernels on `threads` threads.
    public func with(threads: Int) -> Transformer {
        threads == self.threads ? self : Transformer(weights: weights, threads: threads)
    }
}
