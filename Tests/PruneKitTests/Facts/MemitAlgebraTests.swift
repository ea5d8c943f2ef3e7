import Foundation
import Testing
@testable import PruneFacts
@testable import PruneKit

/// The closed forms of MEMIT and AlphaEdit on synthetic keys: MEMIT's update maps each key to its
/// target residual as λ → 0; AlphaEdit's leaves every key in the preserved space (P k = 0) unchanged.
@Suite struct MemitAlgebraTests {
    /// A symmetric positive definite m × m matrix with eigenvalues `values` (random orthogonal basis).
    static func moment(_ m: Int, values: [Double], seed: UInt64) throws -> (c: Matrix, basis: Matrix) {
        var rng = SplitMix(seed: seed)
        let g = try Matrix(rows: m, cols: m, values: (0..<(m * m)).map { _ in Double(rng.nextFloat()) })
        let q = try g.qr().q
        let scaled = q.scalingColumns(by: values)
        return (Matrix.gemm(scaled, q, transposeB: true), q)
    }

    @Test func memitMapsKeysToTargets() throws {
        let m = 48, n = 3
        var rng = SplitMix(seed: 5)
        let (c, _) = try Self.moment(m, values: (0..<m).map { 0.5 + Double($0) / Double(m) }, seed: 9)
        let k = try Matrix(rows: m, cols: n, values: (0..<(m * n)).map { _ in Double(rng.nextFloat()) })
        let v = try Memit.memitRight(keys: k, moment: c, lambda: 1e-7)
        let vtk = Matrix.gemm(v, transposeA: true, k)   // ΔW K = R Vᵀ K: Vᵀ K must be I
        for i in 0..<n { for j in 0..<n { #expect(abs(vtk[i, j] - (i == j ? 1 : 0)) < 1e-5, "VᵀK[\(i),\(j)] = \(vtk[i, j])") } }
        // With λ > 0 the keys are mapped less than fully, and by the ridge solution: (λC + KKᵀ)V = K.
        let v2 = try Memit.memitRight(keys: k, moment: c, lambda: 3)
        let resid = Matrix.gemm(Matrix.gemm(k, k, transposeB: true), v2) + Matrix.gemm(c, v2).scalingColumns(by: [3, 3, 3]) - k
        #expect(resid.frobeniusNorm < 1e-9 * k.frobeniusNorm)
    }

    @Test func alphaEditLeavesPreservedKeys() throws {
        let m = 40, n = 2, d = 12
        var rng = SplitMix(seed: 11)
        // C with 10 eigenvalues below the threshold (the null space) and 30 above (preserved).
        let values = (0..<m).map { $0 < 30 ? 1.0 + Double($0) : 1e-4 }
        let (c, q) = try Self.moment(m, values: values, seed: 4)
        let (p, dim) = try FactLinearAlgebra.nullSpaceProjector(c, threshold: 2e-2)
        #expect(dim == 10)
        let k = try Matrix(rows: m, cols: n, values: (0..<(m * n)).map { _ in Double(rng.nextFloat()) })
        let prev = Matrix.gemm(k, k, transposeB: true)
        let v = try Memit.alphaRight(keys: k, projector: p, previous: prev, l2: 10)
        let r = try Matrix(rows: d, cols: n, values: (0..<(d * n)).map { _ in Double(rng.nextFloat()) })
        let delta = Matrix.gemm(r, v, transposeB: true)   // ΔW = R Vᵀ, d × m
        for col in 0..<30 {
            let k0 = q.columns(col..<(col + 1))            // a preserved direction: P k0 = 0
            let out = Matrix.gemm(delta, k0)
            #expect(out.frobeniusNorm <= 1e-9 * delta.frobeniusNorm, "‖ΔW k‖ = \(out.frobeniusNorm) for preserved direction \(col)")
        }
        #expect(delta.frobeniusNorm > 1e-6)
    }
}
