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
    /// The output projection (+ bias) [rows × d].
    public var attentionOutput: FloatMatrix
    /// input + attentionOutput [rows × d].
    public var middle: FloatMatrix
    public var mlpNormStatistics: NormStatistics
    /// norm₂(middle) [rows × d].
    public var mlpNormed: FloatMatrix
    /// Before the activation: GPT-2's c_fc output, the Llama family's gate projection [rows × ffn].
    public var preActivation: FloatMatrix
    /// The Llama family's up projection [rows × ffn]; nil for GPT-2.
    public var up: FloatMatrix?
    /// The input of the down projection [rows × ffn] (after hooks at `.mlpKey`).
    public var mlpKey: FloatMatrix
    /// The MLP's output (after hooks at `.mlpOutput`) [rows × d].
    public var mlpOutput: FloatMatrix
    /// middle + mlpOutput [rows × d] (before hooks at `.blockOutput`).
    public var output: FloatMatrix
}
