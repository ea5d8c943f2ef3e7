/// A batch of sequences packed row after row, without padding: sequence s occupies rows
/// `firstRow ..< firstRow + count`, and its rows sit at positions `past ..< past + count` (past is
/// the length already in its KV cache, 0 without one).
public struct BatchLayout: Sendable, Equatable {
    public struct Sequence: Sendable, Equatable {
        public var firstRow: Int
        public var count: Int
        public var past: Int
    }

    public private(set) var sequences: [Sequence]
    public private(set) var rows: Int

    public init(lengths: [Int], past: [Int]? = nil) {
        var first = 0
        sequences = lengths.enumerated().map { i, n in
            defer { first += n }
            return Sequence(firstRow: first, count: n, past: past?[i] ?? 0)
        }
        rows = first
    }

    /// The position of every row.
    public var positions: [Int] {
        sequences.flatMap { s in (0..<s.count).map { s.past + $0 } }
    }

    /// The sequence of every row.
    public var sequenceOfRow: [Int] {
        sequences.enumerated().flatMap { i, s in [Int](repeating: i, count: s.count) }
    }

    /// The row holding `position` of `sequence` (nil when that position is not in this batch).
    public func row(sequence: Int, position: Int) -> Int? {
        guard sequence >= 0, sequence < sequences.count else { return nil }
        let s = sequences[sequence]
        let i = position - s.past
        guard i >= 0, i < s.count else { return nil }
        return s.firstRow + i
    }

    /// The last row of each sequence.
    public var lastRows: [Int] { sequences.map { $0.firstRow + $0.count - 1 } }
}

/// A token position: `position` counts from the start of the sequence (cached positions included).
public struct TokenPosition: Sendable, Hashable {
    public var sequence: Int
    public var position: Int

    public init(sequence: Int, position: Int) {
        self.sequence = sequence
        self.position = position
    }
}
