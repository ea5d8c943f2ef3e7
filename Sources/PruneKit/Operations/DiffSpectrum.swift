import Foundation
import PruneFormats

/// The spectral summary of a difference Δ = B − A of one tensor, seen as a rows × cols matrix.
public struct DiffSpectrum: Sendable, Equatable {
    /// The numerical rank: singular values strictly above `tolerance`.
    public var rank: Int
    /// True when the probe stopped at its cap: the rank is at least `rank` (only for large, high-rank Δ).
    public var rankIsLowerBound: Bool
    /// The threshold the rank counts singular values above.
    public var tolerance: Double
    /// The largest singular values of Δ, descending (at most `DiffOptions.topSingularValues`).
    public var topSingularValues: [Double]
    /// "dense-svd" (every singular value computed) or "randomized" (range finder with a verified residual).
    public var method: String
}

/// Numerical rank and top singular values of a difference matrix.
///
/// Small matrices (min(rows, cols) ≤ `denseLimit`) get a full singular-value decomposition. Larger
/// ones use a randomized range finder: Q spans Δ·Ω (one power iteration, Ω fixed-seed), the
/// singular values of QᵀΔ approximate Δ's from below, and the residual R = Δ − QQᵀΔ is checked:
/// σ_{k+1}(Δ) ≤ σ_max(R), so once σ_max(R) ≤ tolerance the rank is exact. The probe doubles k up
/// to `maxProbe`, after which the rank is reported as a lower bound.
///
/// The tolerance is the larger of numpy's `matrix_rank` rule (σ₁·max(rows, cols)·ε_f32) and the
/// storage noise floor 2·u·rms(B)·(√rows + √cols), u the unit roundoff of the coarser stored type:
/// rounding an edited tensor back to its type adds a full-rank noise matrix of about that size,
/// which is not part of the edit.
enum DiffSpectrumCalculator {
    static let denseLimit = 1024
    static let float32Epsilon = Double(Float.ulpOfOne)

    static func compute(delta: [Float], rows: Int, cols: Int, noiseFloor: Double, top: Int, maxProbe: Int,
                        tensor: String) throws -> DiffSpectrum {
        if delta.allSatisfy({ $0 == 0 }) {
            return DiffSpectrum(rank: 0, rankIsLowerBound: false, tolerance: noiseFloor, topSingularValues: [],
                                method: "zero")
        }
        if min(rows, cols) <= denseLimit {
            let s = try SpectralNorm.withTensor(tensor) {
                try Matrix(rows: rows, cols: cols, floats: delta).singularValues()
            }
            let tol = max(NumericalRank.tolerance(singularValues: s, rows: rows, cols: cols, epsilon: float32Epsilon),
                          noiseFloor)
            return DiffSpectrum(rank: s.reduce(0) { $0 + ($1 > tol ? 1 : 0) }, rankIsLowerBound: false,
                                tolerance: tol, topSingularValues: Array(s.prefix(top)), method: "dense-svd")
        }
        let d = try Matrix(rows: rows, cols: cols, floats: delta)
        var k = 16
        let limit = min(maxProbe, min(rows, cols))
        while true {
            let l = min(k + 8, min(rows, cols))
            var rng = SplitMix64(seed: 0x5052_554E_4544_4946)   // "PRUNEDIF"
            var omega = Matrix(rows: cols, cols: l)
            for i in 0..<omega.storage.count { omega.storage[i] = rng.nextSigned() }
            var y = Matrix.gemm(d, omega)
            y = try SpectralNorm.withTensor(tensor) { try y.qr().q }
            y = Matrix.gemm(d, Matrix.gemm(d, transposeA: true, y))      // one power iteration
            let q = try SpectralNorm.withTensor(tensor) { try y.qr().q }
            let b = Matrix.gemm(q, transposeA: true, d)                  // l × cols
            let s = try SpectralNorm.withTensor(tensor) { try b.singularValues() }
            let tol = max(NumericalRank.tolerance(singularValues: s, rows: rows, cols: cols, epsilon: float32Epsilon),
                          noiseFloor)
            let residual = d - Matrix.gemm(q, b)
            let r = try SpectralNorm.estimate(weights: residual.storage.map { Float($0) }, rows: rows, cols: cols,
                                              tensor: tensor)
            let count = s.reduce(0) { $0 + ($1 > tol ? 1 : 0) }
            let exact = r.sigmaMax + r.errorBound <= tol
            if exact || l >= limit {
                return DiffSpectrum(rank: count, rankIsLowerBound: !exact, tolerance: tol,
                                    topSingularValues: Array(s.prefix(top)), method: "randomized")
            }
            k *= 2
        }
    }

    /// Unit roundoff of a stored type: the relative rounding error one store into it makes.
    /// Quantized types use the step of their code relative to the block's scale.
    static func unitRoundoff(_ type: TensorType) -> Double {
        switch type {
        case .safetensors(let d):
            switch d {
            case .f64: return unitRoundoff(.ggml(.f64))
            case .f32: return unitRoundoff(.ggml(.f32))
            case .f16: return unitRoundoff(.ggml(.f16))
            case .bf16: return unitRoundoff(.ggml(.bf16))
            case .f8_e4m3: return 0x1p-4
            case .f8_e5m2: return 0x1p-3
            default: return 0x1p-2
            }
        case .ggml(let g):
            switch g {
            case .f64: return 0x1p-53
            case .f32: return 0x1p-24
            case .f16: return 0x1p-11
            case .bf16: return 0x1p-8
            case .q8_0, .q8_1, .q8_K: return 0x1p-7
            case .q6_K: return 0x1p-5
            case .q5_0, .q5_1, .q5_K: return 0x1p-4
            case .q4_0, .q4_1, .q4_K, .iq4_NL, .iq4_XS: return 0x1p-3
            default: return 0x1p-2
            }
        }
    }

    /// 2·u·rms(values)·(√rows + √cols): about twice the largest singular value of the rounding noise
    /// a store into a type of unit roundoff u adds.
    static func noiseFloor(values: [Float], rows: Int, cols: Int, unitRoundoff u: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        var sum = 0.0
        for v in values { sum += Double(v) * Double(v) }
        let rms = (sum / Double(values.count)).squareRoot()
        return 2 * u * rms * (Double(rows).squareRoot() + Double(cols).squareRoot())
    }
}
