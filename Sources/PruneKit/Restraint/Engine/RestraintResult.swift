import PruneFormats
/// The restrained delta of one tensor and its report.
public struct RestraintResult: Sendable {
    /// ΔW̄ = U_r F(Σ_r) V_rᵀ as float64 factors: `a = U_r·F(Σ_r)` (rows × r), `b = V_r` (cols × r).
    /// For the `each` schedule this is also the state to continue from (store it in float64).
    public let delta: LowRankDelta
    public var report: RestraintReport

    /// The factors rounded to f32 for fixed-order materialisation onto weights.
    public var factored: FactoredDelta { delta.factored() }
}
