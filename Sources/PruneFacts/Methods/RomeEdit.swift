/// What ROME computed for one request: ΔW [d_out, d_in] = lam uᵀ of one layer's down projection
/// (logical orientation, y = W x), with what it took to get there.
public struct RomeEdit: Sendable {
    public var layer: Int
    /// The key direction, m.
    public var u: [Float]
    /// Λ = (v* − o*) / (k*·u), d.
    public var lam: [Float]
    /// k̄ (mean key over the templates), k* (key at the bare prompt), δ = v* − o*.
    public var kbar: [Float]
    public var kstar: [Float]
    public var delta: [Float]
    public var initialNorm: Double
    public var kDotU: Double
    public var targetIDs: [Int32]
    public var lookupPositions: [Int]
    public var trace: [TargetObjective.Step]
    public var firstGradient: [Float]
}
