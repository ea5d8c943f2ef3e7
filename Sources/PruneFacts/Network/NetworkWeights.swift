/// A norm's scale and (LayerNorm) shift.
public struct NormParameters: Sendable {
    public var weight: [Float]
    /// nil: RMSNorm.
    public var bias: [Float]?
    public init(weight: [Float], bias: [Float]?) {
        self.weight = weight
        self.bias = bias
    }
}

/// One block's frozen weights in f32, q/k/v as separate projections (GPT-2's fused c_attn split).
public struct BlockParameters: Sendable {
    public var attentionNorm: NormParameters
    public var query: DenseLinear
    public var key: DenseLinear
    public var value: DenseLinear
    public var attentionOutput: DenseLinear
    public var mlpNorm: NormParameters
    /// SwiGLU's gate (Llama family); nil for GPT-2.
    public var gate: DenseLinear?
    public var up: DenseLinear
    /// The down projection [d, ffn]: its input is the key.
    public var down: DenseLinear

    public init(attentionNorm: NormParameters, query: DenseLinear, key: DenseLinear, value: DenseLinear,
                attentionOutput: DenseLinear, mlpNorm: NormParameters, gate: DenseLinear?, up: DenseLinear,
                down: DenseLinear) {
        self.attentionNorm = attentionNorm
        self.query = query
        self.key = key
        self.value = value
        self.attentionOutput = attentionOutput
        self.mlpNorm = mlpNorm
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// Every weight of the model in f32, as the fact engine's forward and backward read it.
public struct NetworkWeights: Sendable {
    public var config: NetworkConfig
    /// vocab × d.
    public var tokenEmbedding: [Float]
    /// GPT-2's learned positions, context × d.
    public var positionEmbedding: [Float]?
    public var blocks: [BlockParameters]
    public var outputNorm: NormParameters
    /// The head [vocab, d] (the token embedding when tied).
    public var output: DenseLinear

    public init(config: NetworkConfig, tokenEmbedding: [Float], positionEmbedding: [Float]?, blocks: [BlockParameters],
                outputNorm: NormParameters, output: DenseLinear) {
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.blocks = blocks
        self.outputNorm = outputNorm
        self.output = output
    }
}
