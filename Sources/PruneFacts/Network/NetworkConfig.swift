import PruneRuntime

/// The shape of a GPT-2 or Llama-family model as the fact engine needs it.
public struct NetworkConfig: Sendable, Equatable {
    public enum Architecture: String, Sendable, Equatable { case gpt2, llama }
    public var architecture: Architecture
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var ffnSize: Int
    public var contextLength: Int
    public var normEpsilon: Float
    /// Rotary inverse frequencies (one per rotated pair) for the Llama family; nil for GPT-2.
    public var ropeInverseFrequencies: [Float]?
    public var attentionScale: Float
    /// GPT-2's `scale_attn_by_inverse_layer_idx`.
    public var scaleAttentionByInverseLayer: Bool
    /// The MLP's activation as the runtime reads it from the model (GPT-2's `activation_function`;
    /// the Llama family's gate is always silu).
    public var activation: ActivationFunction

    public init(architecture: Architecture, vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int,
                kvHeadCount: Int, headDim: Int, ffnSize: Int, contextLength: Int, normEpsilon: Float,
                ropeInverseFrequencies: [Float]?, attentionScale: Float? = nil, scaleAttentionByInverseLayer: Bool = false,
                activation: ActivationFunction? = nil) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.ffnSize = ffnSize
        self.contextLength = contextLength
        self.normEpsilon = normEpsilon
        self.ropeInverseFrequencies = ropeInverseFrequencies
        self.attentionScale = attentionScale ?? 1 / Float(headDim).squareRoot()
        self.scaleAttentionByInverseLayer = scaleAttentionByInverseLayer
        self.activation = activation ?? (architecture == .gpt2 ? .geluTanh : .silu)
    }
}
