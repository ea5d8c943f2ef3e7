import Foundation
import PruneFormats

/// The balanced factors of one sidecar tensor's restrained delta: from the stored factors
/// ΔW̄ = u·vᵀ (f32, stored orientation), the compact SVD U Σ Vᵀ (QR of both factors and the SVD of the
/// small core, in float64), then P = U √Σ and Q = V √Σ, so that ΔW̄ = P·Qᵀ with the scale split
/// evenly between the two sides. `cap` keeps the largest `cap` components.
enum AdapterFactorization {
    struct Result {
        /// rows × k and cols × k, row-major, in the stored orientation.
        var p: Matrix
        var q: Matrix
        var singularValues: [Double]
        var fullRank: Int
        var residualNorm: Double
    }

    static func factor(_ record: Sidecar.Tensor, cap: Int?) throws -> Result {
        let f = record.restrained
        let delta = try LowRankDelta(rows: record.rows, cols: record.cols, rank: f.rank, a: f.u, b: f.v, tensor: record.name)
        let (u, s, v) = try BLASThreads.deterministic { try delta.compactSVD() }
        // Components the f32 factors round to exactly zero add nothing.
        let full = s.firstIndex(where: { !($0 > 0) }) ?? s.count
        let keep = min(full, cap ?? full)
        let roots = s[0..<keep].map { $0.squareRoot() }
        var residual = 0.0
        for x in s[keep..<full] { residual += x * x }
        return Result(p: u.columns(0..<keep).scalingColumns(by: roots), q: v.columns(0..<keep).scalingColumns(by: roots),
                      singularValues: Array(s[0..<keep]), fullRank: full, residualNorm: residual.squareRoot())
    }
}
