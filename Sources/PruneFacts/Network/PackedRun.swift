import PruneFormats

/// Sequences run through blocks 0…layer packed: consecutive sequences fill groups of about `rows`
/// rows (each attends only to itself, positions restarting), so that every matrix product is one
/// large sgemm. The groups depend on the lengths alone; several run in parallel (one thread each),
/// a single group runs its products on `threads` threads (fixed blocks): the bits never depend on
/// the thread count.
public struct PackedRun: Sendable {
    /// The activations of block `layer`, one per group.
    public var groups: [BlockActivations]
    /// Each sequence's group and first row in it.
    public var places: [Place]

    public struct Place: Sendable {
        public var group: Int
        public var row: Int
    }

    /// The rows a group fills (a longer sequence makes a group of its own).
    public static let groupRows = 512

    public init(network: FactNetwork, sequences: [[Int32]], through layer: Int, threads: Int, keyOnly: Bool = false) {
        let members = Self.groups(sequences.map(\.count), rows: Self.groupRows)
        var places = [Place](repeating: Place(group: 0, row: 0), count: sequences.count)
        for (g, list) in members.enumerated() {
            var row = 0
            for i in list {
                places[i] = Place(group: g, row: row)
                row += sequences[i].count
            }
        }
        var net = network
        net.threads = members.count == 1 ? threads : 1
        let runner = net
        groups = ParallelMap.map(members.count, threads: threads) { g in
            runner.run(packed: members[g].map { sequences[$0] }, through: layer, keyOnly: keyOnly)
        }
        self.places = places
    }

    /// Row `position` of sequence `i` in one of the saved tensors of width `width`.
    public func row(_ tensor: KeyPath<BlockActivations, [Float]>, of i: Int, at position: Int, width: Int) -> [Float] {
        let p = places[i], r = p.row + position
        return Array(groups[p.group][keyPath: tensor][(r * width)..<((r + 1) * width)])
    }

    /// All `count` rows of sequence `i` in one of the saved tensors.
    public func rows(_ tensor: KeyPath<BlockActivations, [Float]>, of i: Int, count: Int, width: Int) -> ArraySlice<Float> {
        let p = places[i]
        return groups[p.group][keyPath: tensor][(p.row * width)..<((p.row + count) * width)]
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
