import Foundation
import PruneFormats

/// A low-rank update ΔW = a · bᵀ of a rows × cols weight (a is rows × k, b is cols × k).
///
/// For a LoRA pair on a weight stored [out, in]: `a = scale · B_lora` (out × r), `b = A_loraᵀ` (in × r).
public struct LowRankDelta: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    /// rows × rank.
    public let a: Matrix
    /// cols × rank.
    public let b: Matrix

    public var rank: Int { a.cols }

    /// From float64 factors; `scale` is folded into `a` (one float64 multiplication per element).
    public init(a: Matrix, b: Matrix, scale: Double = 1, tensor: String = "<matrix>") throws {
        guard a.cols == b.cols else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "low-rank factor b (cols x rank)",
                                               expected: b.rows * a.cols, actual: b.storage.count)
        }
        guard scale.isFinite else { throw RestraintError.nonFinite(tensor: tensor, what: "delta scale", index: 0) }
        if let i = a.firstNonFiniteIndex { throw RestraintError.nonFinite(tensor: tensor, what: "low-rank factor a", index: i) }
        if let i = b.firstNonFiniteIndex { throw RestraintError.nonFinite(tensor: tensor, what: "low-rank factor b", index: i) }
        self.rows = a.rows
        self.cols = b.rows
        self.a = scale == 1 ? a : Matrix(rows: a.rows, cols: a.cols, unchecked: a.storage.map { $0 * scale })
        self.b = b
    }

    /// From row-major f32 factors: `a` is rows × rank, `b` is cols × rank.
    public init(rows: Int, cols: Int, rank: Int, a: [Float], b: [Float], scale: Double = 1,
                tensor: String = "<matrix>") throws {
        guard rows > 0, cols > 0, rank >= 0 else {
            throw RestraintError.invalidDimensions(tensor: tensor, rows: rows, cols: cols)
        }
        let (na, o1) = rows.multipliedReportingOverflow(by: rank)
        let (nb, o2) = cols.multipliedReportingOverflow(by: rank)
        guard !o1, a.count == na else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "low-rank factor a (rows x rank)",
                                               expected: o1 ? -1 : na, actual: a.count)
        }
        guard !o2, b.count == nb else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "low-rank factor b (cols x rank)",
                                               expected: o2 ? -1 : nb, actual: b.count)
        }
        try self.init(a: Matrix(rows: rows, cols: rank, unchecked: a.map(Double.init)),
                      b: Matrix(rows: cols, cols: rank, unchecked: b.map(Double.init)), scale: scale, tensor: tensor)
    }

    /// Internal: already validated factors.
    init(unchecked a: Matrix, b: Matrix) {
        self.rows = a.rows
        self.cols = b.rows
        self.a = a
        self.b = b
    }

    /// The zero delta (rank 0).
    public static func zero(rows: Int, cols: Int) -> LowRankDelta {
        LowRankDelta(unchecked: Matrix(rows: rows, cols: 0), b: Matrix(rows: cols, cols: 0))
    }

    /// The delta of the transposed weight: (a bᵀ)ᵀ = b aᵀ.
    public func transposed() -> LowRankDelta { LowRankDelta(unchecked: b, b: a) }

    /// a · bᵀ as a dense rows × cols matrix (float64, BLAS).
    public func dense() -> Matrix { Matrix.gemm(a, b, transposeB: true) }

    /// Rounds the factors to f32 for fixed-order materialisation (see `FactoredDelta`).
    public func factored() -> FactoredDelta {
        FactoredDelta(unchecked: rows, cols: cols, rank: rank,
                      u: a.storage.map { Float($0) }, v: b.storage.map { Float($0) })
    }

    /// The compact SVD form of a · bᵀ by QR of both factors and an SVD of the small core:
    /// a = Qa Ra, b = Qb Rb, Ra Rbᵀ = Uc Σ Vcᵀ, so a bᵀ = (Qa Uc) Σ (Qb Vc)ᵀ. Cost O((rows+cols)·k²).
    /// Returns U (rows × k), σ (descending), V (cols × k) with k = min(rank, rows, cols).
    public func compactSVD() throws -> (u: Matrix, s: [Double], v: Matrix) {
        let k = rank
        if k == 0 { return (Matrix(rows: rows, cols: 0), [], Matrix(rows: cols, cols: 0)) }
        let (qa, ra) = try a.qr()
        let (qb, rb) = try b.qr()
        let core = Matrix.gemm(ra, rb, transposeB: true)
        let svd = try core.svd(.thin)
        let u = Matrix.gemm(qa, svd.u)
        let v = Matrix.gemm(qb, svd.vt, transposeB: true)
        return (u, svd.s, v)
    }

    /// Re-compression: the same delta with factors U·Σ and V, keeping only the components with
    /// σᵢ > σ₁·max(rows, cols)·ε_float64 (the numerically non-zero ones).
    public func recompressed() throws -> LowRankDelta {
        let (u, s, v) = try compactSVD()
        let r = NumericalRank.rank(singularValues: s, rows: rows, cols: cols, epsilon: Double.ulpOfOne)
        return LowRankDelta(unchecked: u.columns(0..<r).scalingColumns(by: Array(s[0..<r])), b: v.columns(0..<r))
    }
}
