import Foundation

/// Which positions get logits.
public enum LogitSelection: Sendable, Equatable {
    /// No logits (hidden states only).
    case none
    /// The last position of each sequence.
    case last
    /// Every position of every sequence.
    case all
    /// The listed positions, in this order.
    case positions([TokenPosition])
}

/// What a forward pass returns.
public struct ForwardResult: Sendable {
    public var layout: BatchLayout
    /// One row of vocabulary logits per entry of `logitPositions`.
    public var logits: FloatMatrix
    public var logitPositions: [TokenPosition]
    /// The residual stream after the last block, before the final norm [rows × d].
    public var residual: FloatMatrix
    /// Statistics of the final norm, per row.
    public var finalNormStatistics: NormStatistics
    /// The saved activations of the traced blocks, by block index.
    public var traces: [Int: BlockTrace]

    /// The logits rows of sequence `s`, in position order (those `logitPositions` lists for it).
    public func logits(sequence s: Int) -> FloatMatrix {
        logits.gathering(rows: logitPositions.indices.filter { logitPositions[$0].sequence == s })
    }
}

/// The numeric model: configuration and weights, and the forward pass over packed batches.
///
/// One block follows every family's recipe (`Transformer+Block`), written from the kernels in
/// Kernels/; each can save its activations (`BlockTrace`) for a backward pass beside it.
/// Deterministic: every kernel splits its work into items fixed by the shapes, so the logits are
/// the same bits for any `threads`.
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    /// Threads the kernels use (results do not depend on it).
    public var threads: Int
    /// What the linear layers of `forward(_:caches:…)` multiply stored weights with (`.f32`
    /// unless asked). The other entry points (blocks from a residual stream, single blocks, the
    /// backward passes that fact editing uses) always use `.f32`.
    public var activations: ActivationPrecision

    public init(weights: ModelWeights, threads: Int, activations: ActivationPrecision = .f32) {
        self.config = weights.config
        self.weights = weights
        self.threads = max(1, threads)
        self.activations = activations
    }

    // MARK: - Whole forward

    /// Runs `tokens` (one array per sequence, different lengths allowed) through the model.
    /// With `caches` (one per sequence), the tokens continue what each cache holds and their keys and
    /// values are appended to it.
    public func forward(_ tokens: [[Int32]], caches: [KVCache]? = nil, logits selection: LogitSelection = .last,
                        hooks: ForwardHooks? = nil, trace: Set<Int> = []) throws -> ForwardResult {
        if let caches, caches.count != tokens.count {
            throw RuntimeError.badArgument("\(caches.count) KV caches for \(tokens.count) sequences (caches)")
        }
        let past = caches?.map(\.length) ?? [Int](repeating: 0, count: tokens.count)
        for (s, seq) in tokens.enumerated() {
            guard !seq.isEmpty else { throw RuntimeError.emptyPrompt(sequence: s) }
            guard past[s] + seq.count <= config.contextLength else {
                throw RuntimeError.promptTooLong(sequence: s, length: past[s] + seq.count, context: config.contextLength)
            }
            for (i, id) in seq.enumerated() where id < 0 || Int(id) >= config.vocabularySize {
                throw RuntimeError.tokenOutOfRange(sequence: s, position: past[s] + i, id: id, vocabulary: config.vocabularySize)
            }
            if let c = caches?[s], c.layerCount != config.layerCount || c.width != config.kvWidth {
                throw RuntimeError.badArgument("KV cache \(s) was made for another model (caches)")
            }
        }
        let layout = BatchLayout(lengths: tokens.map(\.count), past: past)
        if let caches { for (s, c) in caches.enumerated() { c.reserve(past[s] + tokens[s].count) } }
        let workspace = Workspace(threads: threads, activations: activations)
        var x = embed(tokens, layout: layout)
        try hooks?.run(.embedding, &x, cols: config.hiddenSize, layout: layout)
        let rope = config.rope.map { RopeTable(positions: layout.positions, rope: $0) }
        var traces: [Int: BlockTrace] = [:]
        for l in 0..<config.layerCount {
            let (y, t) = try block(l, x, layout: layout, rope: rope, caches: caches, hooks: hooks, trace: trace.contains(l), workspace: workspace)
            x = y
            if let t { traces[l] = t }
        }
        if let caches { for (s, c) in caches.enumerated() { c.advance(by: tokens[s].count) } }
        return try finish(x, layout: layout, selection: selection, hooks: hooks, traces: traces, workspace: workspace)
    }

    /// Runs blocks `fromBlock ..< layerCount`, the final norm and the head on `residual`, the
    /// residual stream entering block `fromBlock` (= after block fromBlock − 1, or the embedding
    /// for 0) of sequences laid out as `layout` (no KV cache). ROME-style optimisations cache
    /// everything below the edited layer and rerun only this.
    public func forward(residual: FloatMatrix, layout: BatchLayout, fromBlock: Int, logits selection: LogitSelection = .last,
                        hooks: ForwardHooks? = nil, trace: Set<Int> = []) throws -> ForwardResult {
        guard fromBlock >= 0, fromBlock <= config.layerCount else {
            throw RuntimeError.badLayer(layer: fromBlock, layerCount: config.layerCount)
        }
        guard residual.rows == layout.rows, residual.cols == config.hiddenSize else {
            throw RuntimeError.badArgument("residual stream of \(residual.rows) × \(residual.cols) for \(layout.rows) rows of width \(config.hiddenSize) (residual)")
        }
        try checkUncached(layout)
        let workspace = Workspace(threads: threads)
        let rope = config.rope.map { RopeTable(positions: layout.positions, rope: $0) }
        var x = residual.values
        var traces: [Int: BlockTrace] = [:]
        for l in fromBlock..<config.layerCount {
            let (y, t) = try block(l, x, layout: layout, rope: rope, caches: nil, hooks: hooks, trace: trace.contains(l), workspace: workspace)
            x = y
            if let t { traces[l] = t }
        }
        return try finish(x, layout: layout, selection: selection, hooks: hooks, traces: traces, workspace: workspace)
    }

    // MARK: - Pieces

    /// The residual stream after the embedding (token embedding, plus learned positions for GPT-2).
    func embed(_ tokens: [[Int32]], layout: BatchLayout) -> [Float] {
        let d = config.hiddenSize
        var x = [Float](repeating: 0, count: layout.rows * d)
        var position = [Float](repeating: 0, count: d)
        var spare = [Float](repeating: 0, count: 2)
        x.withUnsafeMutableBufferPointer { xp in
            position.withUnsafeMutableBufferPointer { pp in
                spare.withUnsafeMutableBufferPointer { sp in
                    for (s, seq) in layout.sequences.enumerated() {
                        for i in 0..<seq.count {
                            let row = xp.baseAddress! + (seq.firstRow + i) * d
                            weights.tokenEmbedding.logicalRowValues(Int(tokens[s][i]), into: row, spare: sp.baseAddress!)
                            if let wpe = weights.positionEmbedding {
                                wpe.logicalRowValues(seq.past + i, into: pp.baseAddress!, spare: sp.baseAddress!)
                                for j in 0..<d { row[j] += pp[j] }
                            }
                            if let scale = config.embeddingScale { for j in 0..<d { row[j] *= scale } }
                        }
                    }
                }
            }
        }
        return x
    }

    /// The residual stream after the embedding, for sequences of token ids (no cache).
    public func embed(_ tokens: [[Int32]]) throws -> (FloatMatrix, BatchLayout) {
        let layout = BatchLayout(lengths: tokens.map(\.count))
        for (s, seq) in tokens.enumerated() {
            guard !seq.isEmpty else { throw RuntimeError.emptyPrompt(sequence: s) }
            guard seq.count <= config.contextLength else { throw RuntimeError.promptTooLong(sequence: s, length: seq.count, context: config.contextLength) }
            for (i, id) in seq.enumerated() where id < 0 || Int(id) >= config.vocabularySize {
                throw RuntimeError.tokenOutOfRange(sequence: s, position: i, id: id, vocabulary: config.vocabularySize)
            }
        }
        return (FloatMatrix(rows: layout.rows, cols: config.hiddenSize, values: embed(tokens, layout: layout)), layout)
    }

    /// One block on the residual stream `input` (no cache): its output, and its saved activations
    /// when `trace`.
    public func runBlock(_ layer: Int, input: FloatMatrix, layout: BatchLayout, hooks: ForwardHooks? = nil,
                         trace: Bool = false) throws -> (output: FloatMatrix, trace: BlockTrace?) {
        guard layer >= 0, layer < config.layerCount else { throw RuntimeError.badLayer(layer: layer, layerCount: config.layerCount) }
        guard input.rows == layout.rows, input.cols == config.hiddenSize else {
            throw RuntimeError.badArgument("block input of \(input.rows) × \(input.cols) for \(layout.rows) rows of width \(config.hiddenSize) (residual)")
        }
        try checkUncached(layout)
        let rope = config.rope.map { RopeTable(positions: layout.positions, rope: $0) }
        let (y, t) = try block(layer, input.values, layout: layout, rope: rope, caches: nil, hooks: hooks, trace: trace,
                               workspace: Workspace(threads: threads))
        return (FloatMatrix(rows: layout.rows, cols: config.hiddenSize, values: y), t)
    }

    /// Without a cache, every sequence starts at position 0 and fits the context.
    private func checkUncached(_ layout: BatchLayout) throws {
        for (s, seq) in layout.sequences.enumerated() {
            guard seq.past == 0 else {
                throw RuntimeError.badArgument("sequence \(s) starts at position \(seq.past); without a KV cache sequences start at 0 (layout)")
            }
            guard seq.count <= config.contextLength else {
                throw RuntimeError.promptTooLong(sequence: s, length: seq.count, context: config.contextLength)
            }
        }
    }

    /// The final norm of every row of `residual`.
    public func finalNorm(_ residual: FloatMatrix) -> (normed: FloatMatrix, statistics: NormStatistics) {
        var y = [Float](repeating: 0, count: residual.values.count)
        let stats = norm(residual.values, rows: residual.rows, weights.outputNorm, into: &y)
        return (FloatMatrix(rows: residual.rows, cols: residual.cols, values: y), stats)
    }

    /// Vocabulary logits of rows of the normed residual stream [rows × vocab].
    public func logits(normed: FloatMatrix) -> FloatMatrix {
        FloatMatrix(rows: normed.rows, cols: config.vocabularySize,
                    values: head(normed.values, rows: normed.rows, workspace: Workspace(threads: threads)))
    }

    /// The output head on normed rows, then the final-logit softcap where the model has one.
    func head(_ normed: [Float], rows: Int, workspace: Workspace) -> [Float] {
        var out = Linear.forward(normed, rows: rows, weight: weights.output, bias: nil, workspace: workspace)
        if let cap = config.finalLogitSoftcap {
            out.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = cap * tanhf(p[i] / cap) } }
        }
        return out
    }

    func norm(_ x: [Float], rows: Int, _ w: NormWeights, into y: inout [Float]) -> NormStatistics {
        switch config.recipe.norm {
        case .layerNorm: return Norms.layerNorm(x, rows: rows, width: config.hiddenSize, weights: w, epsilon: config.normEpsilon, into: &y)
        case .rmsNorm: return Norms.rmsNorm(x, rows: rows, width: config.hiddenSize, weights: w, epsilon: config.normEpsilon, into: &y)
        }
    }

    /// Final norm, hooks, and the head on the selected rows.
    private func finish(_ x: [Float], layout: BatchLayout, selection: LogitSelection, hooks: ForwardHooks?,
                        traces: [Int: BlockTrace], workspace: Workspace) throws -> ForwardResult {
        let d = config.hiddenSize
        var normed = [Float](repeating: 0, count: x.count)
        let stats = norm(x, rows: layout.rows, weights.outputNorm, into: &normed)
        try hooks?.run(.finalNorm, &normed, cols: d, layout: layout)
        var positions: [TokenPosition] = []
        var rows: [Int] = []
        switch selection {
        case .none: break
        case .last:
            for (s, seq) in layout.sequences.enumerated() where seq.count > 0 {
                positions.append(TokenPosition(sequence: s, position: seq.past + seq.count - 1))
                rows.append(seq.firstRow + seq.count - 1)
            }
        case .all:
            for (s, seq) in layout.sequences.enumerated() {
                for i in 0..<seq.count {
                    positions.append(TokenPosition(sequence: s, position: seq.past + i))
                    rows.append(seq.firstRow + i)
                }
            }
        case .positions(let list):
            for p in list {
                guard p.sequence >= 0, p.sequence < layout.sequences.count else {
                    throw RuntimeError.badArgument("logits asked for sequence \(p.sequence), the batch has \(layout.sequences.count) (logit positions)")
                }
                guard let r = layout.row(sequence: p.sequence, position: p.position) else {
                    let s = layout.sequences[p.sequence]
                    throw RuntimeError.badPosition(sequence: p.sequence, position: p.position, length: s.past + s.count)
                }
                positions.append(p)
                rows.append(r)
            }
        }
        var logits = FloatMatrix(rows: 0, cols: config.vocabularySize)
        if !rows.isEmpty {
            var selected = [Float]()
            selected.reserveCapacity(rows.count * d)
            for r in rows { selected.append(contentsOf: normed[r * d ..< (r + 1) * d]) }
            let out = head(selected, rows: rows.count, workspace: workspace)
            logits = FloatMatrix(rows: rows.count, cols: config.vocabularySize, values: out)
        }
        return ForwardResult(layout: layout, logits: logits, logitPositions: positions,
                             residual: FloatMatrix(rows: layout.rows, cols: d, values: x),
                             finalNormStatistics: stats, traces: traces)
    }
}
