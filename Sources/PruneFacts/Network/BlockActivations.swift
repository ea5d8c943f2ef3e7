/// What one block's forward saves for its backward (t positions: one sequence, or several packed).
public struct BlockActivations: Sendable {
    public var rows: Int
    /// The lengths of the packed sequences, in row order ([rows] for one sequence).
    public var segments: [Int]
    public var input: [Float]
    public var norm1: (normalized: [Float], rstd: [Float])
    public var q: [Float]
    public var k: [Float]
    public var v: [Float]
    public var probs: [Float]
    public var mid: [Float]
    public var norm2: (normalized: [Float], rstd: [Float])
    /// GPT-2: the up projection's output (before gelu); Llama: the gate's output.
    public var preActivation: [Float]
    /// Llama: the up projection's output; GPT-2: tanh inside gelu of `preActivation` (saved for the backward).
    public var up: [Float]
    /// The input of the down projection: the key k of ROME.
    public var key: [Float]
    /// The MLP's output (the value ROME's v* replaces).
    public var mlpOutput: [Float]
    /// The block's output, the residual stream after it.
    public var output: [Float]
}
