/// The hyperparameters of a model, from config.json or from GGUF metadata.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: ModelArchitecture
    public var vocabularySize: Int
    /// d, the width of the residual stream.
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    /// Key/value heads (grouped-query attention); equal to `headCount` without GQA.
    public var kvHeadCount: Int
    /// Width of one attention head (may differ from hiddenSize / headCount in the Llama family).
    public var headDim: Int
    /// Width of the MLP's hidden layer (the input of the down projection).
    public var ffnSize: Int
    /// Longest sequence the model accepts (positions 0..<contextLength).
    public var contextLength: Int
    public var normEpsilon: Float
    public var activation: ActivationFunction
    /// Rotary embedding (Llama family); nil for learned positions (GPT-2).
    public var rope: RopeConfig?
    /// The output head is the token embedding.
    public var tiedEmbeddings: Bool
    /// The factor of q·k (1/√headDim unless the model says otherwise).
    public var attentionScale: Float
    /// GPT-2's `scale_attn_by_inverse_layer_idx`: scores of block l are further divided by l + 1.
    public var scaleAttentionByInverseLayer: Bool
    /// The Llama family's `attention_bias` / `mlp_bias`: the projections have biases.
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var bosTokenID: Int32?
    /// Tokens that end a generation (config.json and generation_config.json, or GGUF metadata).
    public var eosTokenIDs: [Int32]

    public init(architecture: ModelArchitecture, vocabularySize: Int, hiddenSize: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int, headDim: Int, ffnSize: Int, contextLength: Int,
                normEpsilon: Float, activation: ActivationFunction, rope: RopeConfig?, tiedEmbeddings: Bool,
                attentionScale: Float? = nil, scaleAttentionByInverseLayer: Bool = false,
                attentionBias: Bool = false, mlpBias: Bool = false,
                bosTokenID: Int32? = nil, eosTokenIDs: [Int32] = []) {
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
        self.activation = activation
        self.rope = rope
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionScale = attentionScale ?? 1 / Float(headDim).squareRoot()
        self.scaleAttentionByInverseLayer = scaleAttentionByInverseLayer
        self.attentionBias = attentionBias
        self.mlpBias = mlpBias
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
    }

    /// Width of the concatenated query heads.
    public var queryWidth: Int { headCount * headDim }
    /// Width of the concatenated key (or value) heads.
    public var kvWidth: Int { kvHeadCount * headDim }
}

/// The one rule both configuration readers (config.json and GGUF metadata) apply to the numbers that
/// must be positive: norm epsilons, the RoPE base θ and RoPE scaling factors. A value must be finite
/// and > 0, and stay so as the f32 the runtime computes with (a negative epsilon or θ ≤ 0 gives NaN).
enum PositiveParameter {
    static let requirement = "must be a positive number"

    static func isValid(_ v: Double) -> Bool {
        v.isFinite && v > 0 && Float(v).isFinite && Float(v) > 0
    }
}
