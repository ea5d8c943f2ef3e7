import PruneFormats
import PruneKit
import PruneRuntime

/// The model the fact engine edits: the runtime's `Transformer` on the runtime's weights (no copy),
/// with the down projections the edits changed so far replaced in memory (every other weight shared).
/// The methods run its forward (`Transformer.run(_:through:)`, `forward(residual:…)`) and its
/// backward (`Transformer+Backward`).
public struct FactModel: Sendable {
    public let transformer: Transformer
    public var config: ModelConfig { transformer.config }

    public init(_ transformer: Transformer) { self.transformer = transformer }
    public init(_ model: LanguageModel) { self.init(model.transformer) }

    /// The down projection of block `layer`, [d, ffn] row-major (W in y = W·key, logical order).
    public func down(_ layer: Int) throws -> [Float] {
        try transformer.weights.values(.mlpDown, layer: layer).values
    }

    /// The model with block `layer`'s down projection set to `values` ([d, ffn], as `down` gives it).
    public func settingDown(_ layer: Int, _ values: [Float]) throws -> FactModel {
        let m = FloatMatrix(rows: config.hiddenSize, cols: config.ffnSize, values: values)
        return FactModel(try transformer.replacing([(role: .mlpDown, layer: layer, values: m)]))
    }

    /// The model with `term` added to block `layer`'s down projection (fixed-order kernel).
    public func adding(_ term: LowRankDelta, layer: Int, threads: Int, tensor: String) throws -> FactModel {
        var w = try down(layer)
        try term.factored().add(to: &w, threads: threads, tensor: tensor)
        return try settingDown(layer, w)
    }

    /// The transformer running its kernels on `threads` threads (the bits do not depend on it).
    public func on(threads: Int) -> Transformer { transformer.with(threads: threads) }

    /// Logits at every position of one sequence [positions × vocab] (scoring and tests).
    public func logits(_ ids: [Int32]) throws -> [Float] {
        try transformer.forward([ids], logits: .all).logits.values
    }
}

/// Sequences run through blocks 0…layer packed: consecutive sequences fill groups of about
/// `groupRows` rows (each attends only to itself, positions restarting), so that every matrix
/// product is one large sgemm. The groups depend on the lengths alone; several run in parallel (one
/// thread each), a single group runs its products on `threads` threads (fixed blocks): the bits
/// never depend on the thread count.
public struct PackedRun: Sendable {
    /// The trace of block `layer`, one per group.
    public var groups: [BlockTrace]
    /// Each sequence's group and first row in it.
    public var places: [Place]

    public struct Place: Sendable {
        public var group: Int
        public var row: Int
    }

    /// The rows a group fills (a longer sequence makes a group of its own).
    public static let groupRows = 512

    public init(model: FactModel, sequences: [[Int32]], through layer: Int, threads: Int) throws {
        let members = Self.groups(sequences.map(\.count), rows: Self.groupRows)
        var places = [Place](repeating: Place(group: 0, row: 0), count: sequences.count)
        for (g, list) in members.enumerated() {
            var row = 0
            for i in list {
                places[i] = Place(group: g, row: row)
                row += sequences[i].count
            }
        }
        let runner = model.on(threads: members.count == 1 ? threads : 1)
        groups = try ParallelMap.map(members.count, threads: threads) { g in
            try runner.run(members[g].map { sequences[$0] }, through: layer).trace
        }
        self.places = places
    }

    /// Row `position` of sequence `i` in one of the saved matrices.
    public func row(_ tensor: KeyPath<BlockTrace, FloatMatrix>, of i: Int, at position: Int) -> [Float] {
        let p = places[i]
        return groups[p.group][keyPath: tensor].row(p.row + position)
    }

    /// All `count` rows of sequence `i` in one of the saved matrices.
    public func rows(_ tensor: KeyPath<BlockTrace, FloatMatrix>, of i: Int, count: Int) -> ArraySlice<Float> {
        let p = places[i], m = groups[p.group][keyPath: tensor]
        return m.values[(p.row * m.cols)..<((p.row + count) * m.cols)]
    }

    /// Consecutive runs of `lengths` (their indices) of about `rows` rows each: a run grows while
    /// the next length still fits.
    public static func groups(_ lengths: [Int], rows: Int) -> [[Int]] {
        var out: [[Int]] = [], current: [Int] = [], filled = 0
        for (i, n) in lengths.enumerated() {
            if !current.isEmpty, filled + n > rows {
                out.append(current)
                current = []
                filled = 0
            }
            current.append(i)
            filled += n
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
