import PruneFormats
/// What the restraint did to one tensor.
public struct RestraintReport: Sendable, Equatable, Codable {
    public var tensor: String
    public var rows: Int
    public var cols: Int
    public var function: String
    public var schedule: String
    public var edits: Int
    /// σ_max(W₀) used (computed once per tensor, or passed back in from a sidecar).
    public var sigmaMaxW0: Double
    /// "low-rank" (QR of the factors + SVD of the small core) or "dense" (thin SVD of ΔW).
    public var path: String
    /// Numerical rank r of the last restrained accumulated delta (components kept).
    public var numericalRank: Int
    /// The absolute rank tolerance σ₁·max(rows, cols)·ε of the last step.
    public var rankTolerance: Double
    /// Components with σ ≥ σ_max(W₀) that F replaced, at the last step.
    public var restrainedCount: Int
    /// Components restrained at each step (one entry for `end`, one per edit for `each`).
    public var restrainedPerStep: [Int]
    /// Leading singular values of the unrestrained accumulated delta Σδₜ (descending).
    public var topSigmaBefore: [Double]
    /// Leading singular values of the restrained delta (descending).
    public var topSigmaAfter: [Double]
    /// Optional condition numbers (see `ConditionNumbers`).
    public var conditionNumbers: ConditionNumbers?
}

/// κ = σ_max/σ_min of W₀, W₀+ΔW and W₀+ΔW̄ (ΔW̄ = restrained delta). Needs three full
/// singular-value decompositions (values only): O(rows·cols·min(rows,cols)) — seconds to minutes
/// for LLM-size matrices, hence optional; `seconds` records how long it took.
public struct ConditionNumbers: Sendable, Equatable, Codable {
    public var kappaW0: Double
    public var kappaEdited: Double
    public var kappaRestrained: Double
    public var seconds: Double
}
