/// A place in the forward pass where values can be captured or changed. Values at a site are a
/// matrix with one row per row of the batch (see `BatchLayout`).
public enum HookSite: Hashable, Sendable {
    /// The residual stream after the embedding [rows × d] (transformers' hidden_states[0]).
    case embedding
    /// The attention's output projection (bias included), before it joins the residual [rows × d].
    case attentionOutput(layer: Int)
    /// The input of the MLP down projection [rows × ffn]: ROME's key k.
    case mlpKey(layer: Int)
    /// The MLP's output (down projection, bias included), before it joins the residual [rows × d].
    case mlpOutput(layer: Int)
    /// The residual stream after block `layer` [rows × d] (transformers' hidden_states[layer + 1]).
    case blockOutput(layer: Int)
    /// The residual stream after the final norm [rows × d] (the input of the head).
    case finalNorm
}

/// Captures and interventions for one or more forward passes.
///
/// At each site the registered actions run in registration order, so a capture registered before
/// an addition sees the values without it. A capture keeps the values of the latest forward that
/// reached its site. Not thread-safe: use one instance per forward at a time.
public final class ForwardHooks {
    public typealias Handler = (_ values: inout FloatMatrix, _ layout: BatchLayout) -> Void

    private enum Action {
        case capture(id: Int, positions: [TokenPosition]?)
        case add(vector: [Float], positions: [TokenPosition])
        case handler(Handler)
    }

    private var actions: [HookSite: [Action]] = [:]
    private var captures: [Int: FloatMatrix] = [:]
    private var captureIDs: [HookSite: [Int]] = [:]
    private var nextID = 0

    public init() {}

    /// Records the values at `site`: the rows of `positions` in that order, or every row of the
    /// batch (in batch order) when nil. Read them with `captured(_:)`.
    public func capture(_ site: HookSite, at positions: [TokenPosition]? = nil) {
        actions[site, default: []].append(.capture(id: nextID, positions: positions))
        captureIDs[site, default: []].append(nextID)
        nextID += 1
    }

    /// Captures every row of the residual stream after the embedding and after each of `layers`
    /// blocks (`.embedding`, `.blockOutput(0)`, …).
    public func captureResidualStream(layers: Int) {
        capture(.embedding)
        for l in 0..<layers { capture(.blockOutput(layer: l)) }
    }

    /// Adds `vector` to the values at `site` in the rows of `positions`. A position already in a KV
    /// cache (before this forward's rows) is skipped: its effect is in the cache.
    public func add(_ vector: [Float], to site: HookSite, at positions: [TokenPosition]) {
        actions[site, default: []].append(.add(vector: vector, positions: positions))
    }

    /// Runs `handler` on the values at `site` (it may change them).
    public func modify(_ site: HookSite, _ handler: @escaping Handler) {
        actions[site, default: []].append(.handler(handler))
    }

    /// The values of the first capture at `site`, or nil before a forward reached it.
    public func captured(_ site: HookSite) -> FloatMatrix? {
        captureIDs[site]?.first.flatMap { captures[$0] }
    }

    /// The values of every capture at `site`, in registration order.
    public func capturedAll(_ site: HookSite) -> [FloatMatrix] {
        (captureIDs[site] ?? []).compactMap { captures[$0] }
    }

    /// Removes every action and capture.
    public func removeAll() {
        actions = [:]
        captures = [:]
        captureIDs = [:]
    }

    func wants(_ site: HookSite) -> Bool { actions[site] != nil }

    /// Runs the actions of `site` on `values` (rows × cols, one row per batch row).
    func run(_ site: HookSite, _ values: inout [Float], cols: Int, layout: BatchLayout) throws {
        guard let list = actions[site] else { return }
        for action in list {
            switch action {
            case .capture(let id, let positions):
                guard let positions else {
                    captures[id] = FloatMatrix(rows: layout.rows, cols: cols, values: values)
                    continue
                }
                var out = [Float]()
                out.reserveCapacity(positions.count * cols)
                for p in positions {
                    let r = try row(p, layout)
                    out.append(contentsOf: values[r * cols ..< (r + 1) * cols])
                }
                captures[id] = FloatMatrix(rows: positions.count, cols: cols, values: out)
            case .add(let vector, let positions):
                guard vector.count == cols else {
                    throw RuntimeError.badArgument("a vector of \(vector.count) values added where the activations have \(cols) (hook \(site))")
                }
                for p in positions {
                    if p.sequence >= 0, p.sequence < layout.sequences.count, p.position >= 0,
                       p.position < layout.sequences[p.sequence].past { continue }
                    let r = try row(p, layout)
                    for j in 0..<cols { values[r * cols + j] += vector[j] }
                }
            case .handler(let h):
                var m = FloatMatrix(rows: layout.rows, cols: cols, values: values)
                h(&m, layout)
                guard m.rows == layout.rows, m.cols == cols, m.values.count == values.count else {
                    throw RuntimeError.badArgument("a hook changed the shape of the activations (hook \(site))")
                }
                values = m.values
            }
        }
    }

    private func row(_ p: TokenPosition, _ layout: BatchLayout) throws -> Int {
        guard p.sequence >= 0, p.sequence < layout.sequences.count else {
            throw RuntimeError.badArgument("hook position names sequence \(p.sequence), the batch has \(layout.sequences.count) (hook positions)")
        }
        guard let r = layout.row(sequence: p.sequence, position: p.position) else {
            let s = layout.sequences[p.sequence]
            throw RuntimeError.badPosition(sequence: p.sequence, position: p.position, length: s.past + s.count)
        }
        return r
    }
}
