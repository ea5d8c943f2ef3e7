import PruneFormats

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
    /// q, k and v have biases (Llama's `attention_bias`, always in Qwen 2).
    public var qkvBias: Bool
    /// The attention output projection has a bias (Llama's `attention_bias`).
    public var outputBias: Bool
    /// The MLP projections have biases (Llama's `mlp_bias`).
    public var mlpBias: Bool
    /// Sliding-window attention: the window (a query at position i sees keys i − window < j ≤ i) and
    /// the layers that use it (one flag per layer; empty: none).
    public var slidingWindow: Int?
    public var slidingLayers: [Bool]
    /// The RoPE of the sliding-window layers where it differs from `rope` (Gemma 3's local base).
    public var localRope: RopeConfig?
    /// Attention scores become cap·tanh(score/cap) before the softmax (Gemma 2).
    public var attentionSoftcap: Float?
    /// Logits become cap·tanh(logit/cap) (Gemma 2).
    public var finalLogitSoftcap: Float?
    /// The embedding is multiplied by this (Gemma: √hidden, rounded to f32).
    public var embeddingScale: Float?
    public var bosTokenID: Int32?
    /// Tokens that end a generation (config.json and generation_config.json, or GGUF metadata).
    public var eosTokenIDs: [Int32]

    public init(architecture: ModelArchitecture, vocabularySize: Int, hiddenSize: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int, headDim: Int, ffnSize: Int, contextLength: Int,
                normEpsilon: Float, activation: ActivationFunction, rope: RopeConfig?, tiedEmbeddings: Bool,
                attentionScale: Float? = nil, scaleAttentionByInverseLayer: Bool = false,
                qkvBias: Bool = false, outputBias: Bool = false, mlpBias: Bool = false,
                slidingWindow: Int? = nil, slidingLayers: [Bool] = [], localRope: RopeConfig? = nil,
                attentionSoftcap: Float? = nil, finalLogitSoftcap: Float? = nil, embeddingScale: Float? = nil,
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
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.mlpBias = mlpBias
        self.slidingWindow = slidingWindow
        self.slidingLayers = slidingLayers
        self.localRope = localRope
        self.attentionSoftcap = attentionSoftcap
        self.finalLogitSoftcap = finalLogitSoftcap
        self.embeddingScale = embeddingScale
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
    }

    /// The block recipe of the family.
    public var recipe: BlockRecipe { architecture.spec.recipe }

    /// The window of layer `l`'s attention, nil for full attention.
    public func window(layer l: Int) -> Int? {
        guard let w = slidingWindow, l < slidingLayers.count, slidingLayers[l] else { return nil }
        return w
    }

    /// The RoPE of layer `l` (the local one on sliding-window layers where the family has one).
    public func rope(layer l: Int) -> RopeConfig? {
        if let local = localRope, window(layer: l) != nil { return local }
        return rope
    }

    /// Which layers use the window when the file does not list them, by the family's layout.
    public static func slidingLayers(_ layout: BlockRecipe.WindowLayout, layers: Int) -> [Bool] {
        switch layout {
        case .none: return []
        case .all: return [Bool](repeating: true, count: layers)
        case .alternating: return (0..<layers).map { $0 % 2 == 0 }
        case .everyNthGlobal(let n): return (0..<layers).map { ($0 + 1) % n != 0 }
        }
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
