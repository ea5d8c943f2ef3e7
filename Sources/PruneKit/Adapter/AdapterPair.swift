/// One adapted weight matrix W ([out, in], the orientation in which the layer computes W·x):
/// ΔW = B·A with A r × in and B out × r, both row-major f32. The scale is split evenly: for the SVD
/// ΔW̄ = U Σ Vᵀ of the restrained delta, B = U √Σ and A = √Σ Vᵀ (times √`folded` each).
public struct AdapterPair: Sendable, Equatable {
    /// The tensor as the sidecar names it.
    public var sidecarTensor: String
    /// The name in the adapter: the GGUF tensor name (llama.cpp) or the Hugging Face module path
    /// without `.weight` (PEFT).
    public var target: String
    public var outFeatures: Int
    public var inFeatures: Int
    /// r × in, row-major.
    public var a: [Float]
    /// out × r, row-major.
    public var b: [Float]
    /// The singular values kept (descending): r of them.
    public var singularValues: [Double]
    /// The restrained delta's rank before any truncation (`--rank`).
    public var fullRank: Int
    /// ‖ΔW̄ − B·A‖_F from the singular values dropped by `--rank` (0 when none were).
    public var residualNorm: Double
    /// ‖ΔW̄‖_F, the whole restrained delta.
    public var deltaNorm: Double
    /// The sidecar also records a forward residual for this tensor (a `prune-diff` sidecar): what the
    /// edited model holds beyond ΔW̄, which the adapter leaves out (and `residualNorm` does not count).
    public var leavesForwardResidual: Bool
    /// The factor B·A carries besides ΔW̄ (1, or r/R in a llama.cpp adapter whose alpha R is the
    /// largest rank: llama.cpp multiplies by alpha/r, so the applied delta is ΔW̄ again).
    public var folded: Double = 1

    public var rank: Int { singularValues.count }
    public var truncated: Bool { rank < fullRank }
}
