/// The activations of one block saved by a traced forward, for a backward pass beside it
/// (activation gradients only, weights frozen). Matrices have one row per batch row.
public struct BlockTrace: Sendable {
    /// The residual stream entering the block [rows × d].
    public var input: FloatMatrix
    public var attentionNormStatistics: NormStatistics
    /// norm₁(input) [rows × d], the input of the q/k/v projections.
    public var attentionNormed: FloatMatrix
    /// Queries and keys after RoPE (Hugging Face order), values: [rows × heads·headDim],
    /// [rows × kvHeads·headDim] ×2. The keys and values of this batch's rows only.
    public var query: FloatMatrix
    public var key: FloatMatrix
    public var value: FloatMatrix
    /// Attention weights of item s·heads + h: [T_s × keys_s] row-major (zeros above the diagonal).
    public var attentionProbabilities: [[Float]]
    /// The weighted values, the input of the output projection [rows × heads·headDim].
    public var attentionContext: FloatMatrix
    /// The output projection (+ bias) [rows × d], after hooks at `.attentionOutput`, before a sandwich norm.
    public var attentionOutput: FloatMatrix
    /// input + attentionOutput (or its sandwich norm) [rows × d].
    public var middle: FloatMatrix
    public var mlpNormStatistics: NormStatistics
    /// norm₂(middle) [rows × d].
    public var mlpNormed: FloatMatrix
    /// Before the activation: the up projection of a plain MLP (GPT-2), the gate of a gated one [rows × ffn].
    public var preActivation: FloatMatrix
    /// The activation's transcendental part at `preActivation` (tanh for gelu-tanh, 1 + e⁻ˣ for silu;
    /// see `Activations.apply(_:_:saving:)`), so that the backward does not recompute it; nil for
    /// the other functions.
    public var activationPart: FloatMatrix?
    /// The up projection of a gated MLP [rows × ffn]; nil for a plain one.
    public var up: FloatMatrix?
    /// The input of the down projection [rows × ffn] (after hooks at `.mlpKey`).
    public var mlpKey: FloatMatrix
    /// The MLP's output (after hooks at `.mlpOutput`) [rows × d].
    public var mlpOutput: FloatMatrix
    /// middle + mlpOutput (or its sandwich norm) [rows × d] (before hooks at `.blockOutput`).
    public var output: FloatMatrix
    /// QK-norm (Qwen 3, Gemma 3): q and k as projected, before their per-head norm, and the norms'
    /// statistics (one row per (batch row, head)); nil without QK-norm.
    public var queryProjected: FloatMatrix? = nil
    public var queryNormStatistics: NormStatistics? = nil
    public var keyProjected: FloatMatrix? = nil
    public var keyNormStatistics: NormStatistics? = nil
    /// Sandwich norms (Gemma): the attention output and the MLP output after their norms (what joins
    /// the residual), and the norms' statistics; nil without.
    public var attentionPostNormed: FloatMatrix? = nil
    public var attentionPostNormStatistics: NormStatistics? = nil
    public var mlpPostNormed: FloatMatrix? = nil
    public var mlpPostNormStatistics: NormStatistics? = nil
}
