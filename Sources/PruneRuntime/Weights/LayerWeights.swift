/// The scale (and shift) of a LayerNorm or RMSNorm.
public struct NormWeights: Sendable {
    public var weight: [Float]
    /// LayerNorm's bias; nil for RMSNorm.
    public var bias: [Float]?

    public init(weight: [Float], bias: [Float]? = nil) {
        self.weight = weight
        self.bias = bias
    }
}

/// The weights of one transformer block.
public struct LayerWeights: Sendable {
    public var attentionNorm: NormWeights
    /// A fused q/k/v projection [q width + 2·kv width, d] (rows: q, then k, then v): GPT-2, Phi-3.
    public var qkv: WeightMatrix?
    public var qkvBias: [Float]?
    /// Separate projections [heads·headDim, d], [kvHeads·headDim, d] ×2.
    public var query: WeightMatrix?
    public var key: WeightMatrix?
    public var value: WeightMatrix?
    public var queryBias: [Float]?
    public var keyBias: [Float]?
    public var valueBias: [Float]?
    /// Per-head RMSNorm scales of q and k [headDim] (Qwen 3, Gemma 3).
    public var queryNorm: NormWeights?
    public var keyNorm: NormWeights?
    public var attentionOutput: WeightMatrix
    public var attentionOutputBias: [Float]?
    /// The norm of the attention output before the residual (Gemma's sandwich).
    public var attentionPostNorm: NormWeights?
    public var mlpNorm: NormWeights
    /// The gate [ffn, d] of a gated MLP; nil for GPT-2, and for a fused gate/up projection (Phi-3),
    /// whose `up` is [2·ffn, d] with the gate's rows first.
    public var gate: WeightMatrix?
    public var gateBias: [Float]?
    public var up: WeightMatrix
    public var upBias: [Float]?
    /// The down projection [d, ffn]: its input is ROME's key.
    public var down: WeightMatrix
    public var downBias: [Float]?
    /// The norm of the MLP output before the residual (Gemma's sandwich).
    public var mlpPostNorm: NormWeights?
}

/// The weight matrices the editors can read and replace.
public enum MatrixRole: String, Sendable, CaseIterable, Hashable {
    /// GPT-2's fused q/k/v projection.
    case attentionQKV
    case attentionQuery
    case attentionKey
    case attentionValue
    case attentionOutput
    case mlpGate
    case mlpUp
    case mlpDown

    /// The canonical (GGUF) tensor role.
    var ggufRole: String {
        switch self {
        case .attentionQKV: return "attn_qkv"
        case .attentionQuery: return "attn_q"
        case .attentionKey: return "attn_k"
        case .attentionValue: return "attn_v"
        case .attentionOutput: return "attn_output"
        case .mlpGate: return "ffn_gate"
        case .mlpUp: return "ffn_up"
        case .mlpDown: return "ffn_down"
        }
    }
}

extension LayerWeights {
    func matrix(_ role: MatrixRole) -> WeightMatrix? {
        switch role {
        case .attentionQKV: return qkv
        case .attentionQuery: return query
        case .attentionKey: return key
        case .attentionValue: return value
        case .attentionOutput: return attentionOutput
        case .mlpGate: return gate
        case .mlpUp: return up
        case .mlpDown: return down
        }
    }

    mutating func setMatrix(_ role: MatrixRole, _ m: WeightMatrix) {
        switch role {
        case .attentionQKV: qkv = m
        case .attentionQuery: query = m
        case .attentionKey: key = m
        case .attentionValue: value = m
        case .attentionOutput: attentionOutput = m
        case .mlpGate: gate = m
        case .mlpUp: up = m
        case .mlpDown: down = m
        }
    }

    var matrices: [WeightMatrix] {
        [qkv, query, key, value, attentionOutput, gate, up, down].compactMap { $0 }
    }
}
