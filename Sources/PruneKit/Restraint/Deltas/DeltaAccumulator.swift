import Foundation
import PruneFormats

/// The exact, order-preserving record of a sequence of deltas on one tensor.
///
/// - Low-rank edits: their float64 factors are concatenated in edit order (scale already folded
///   into `a`): the accumulated low-rank part is `[a₁ a₂ …] · [b₁ b₂ …]ᵀ`. Concatenation is the
///   whole record — no re-compression happens here — so the record of edits 1…n followed by edits
///   n+1…m is byte-identical to the record of edits 1…m fed at once, and so is everything computed
///   from it. (The restraint computes its compact SVD form from the raw record, see
///   `RestraintEngine`; re-compressed forms are working data, never part of the record.)
/// - Dense edits: summed in float64 in edit order into one dense matrix.
///
/// A sidecar stores `rawLowRank` (and `denseSum` if any) and re-creates the accumulator with
/// `init(rows:cols:rawLowRank:denseSum:edits:)` to continue a sequence exactly.
public struct DeltaAccumulator: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    /// aᵀ rows (rank × rows), appended per edit.
    private var aT: [Double] = []
    /// bᵀ rows (rank × cols), appended per edit.
    private var bT: [Double] = []
    public private(set) var rank: Int = 0
    /// The float64 sum of the dense edits, nil when there were none.
    public private(set) var denseSum: Matrix?
    /// Number of edits appended.
    public private(set) var edits: Int = 0

    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
    }

    /// Continues from a stored record.
    public init(rows: Int, cols: Int, rawLowRank: LowRankDelta?, denseSum: Matrix?, edits: Int,
                tensor: String = "<matrix>") throws {
        self.init(rows: rows, cols: cols)
        if let raw = rawLowRank {
            guard raw.rows == rows, raw.cols == cols else {
                throw RestraintError.deltaShapeMismatch(tensor: tensor, edit: 0, rows: raw.rows, cols: raw.cols,
                                                        expectedRows: rows, expectedCols: cols)
            }
            aT = raw.a.transposed().storage
            bT = raw.b.transposed().storage
            rank = raw.rank
        }
        if let d = denseSum {
            guard d.rows == rows, d.cols == cols else {
                throw RestraintError.deltaShapeMismatch(tensor: tensor, edit: 0, rows: d.rows, cols: d.cols,
                                                        expectedRows: rows, expectedCols: cols)
            }
            self.denseSum = d
        }
        self.edits = edits
    }

    /// Appends one edit (shape must match).
    public mutating func append(_ delta: Delta, tensor: String = "<matrix>") throws {
        guard delta.rows == rows, delta.cols == cols else {
            throw RestraintError.deltaShapeMismatch(tensor: tensor, edit: edits + 1, rows: delta.rows, cols: delta.cols,
                                                    expectedRows: rows, expectedCols: cols)
        }
        switch delta {
        case .lowRank(let d):
            aT.append(contentsOf: d.a.transposed().storage)
            bT.append(contentsOf: d.b.transposed().storage)
            rank += d.rank
        case .dense(let d):
            if var sum = denseSum {
                for i in 0..<sum.storage.count { sum.storage[i] += d.values.storage[i] }
                denseSum = sum
            } else {
                denseSum = d.values
            }
        }
        edits += 1
    }

    /// The concatenated low-rank factors in edit order (rows × rank and cols × rank).
    public var rawLowRank: LowRankDelta {
        LowRankDelta(unchecked: Matrix(rows: rank, cols: rows, unchecked: aT).transposed(),
                     b: Matrix(rows: rank, cols: cols, unchecked: bT).transposed())
    }

    /// True when the accumulated delta is handled densely: a dense edit is present, or the
    /// concatenated factors are at least as large as the dense matrix (rank·(rows+cols) ≥ rows·cols),
    /// where the factored path stops paying.
    public var usesDensePath: Bool {
        denseSum != nil || rank * (rows + cols) >= rows * cols
    }

    /// The accumulated delta as a dense float64 matrix (dense sum + a·bᵀ).
    public func dense() -> Matrix {
        var out = denseSum ?? Matrix(rows: rows, cols: cols)
        if rank > 0 {
            let lr = rawLowRank
            Matrix.gemm(lr.a, lr.b, transposeB: true, beta: 1, into: &out)
        }
        return out
    }
}
