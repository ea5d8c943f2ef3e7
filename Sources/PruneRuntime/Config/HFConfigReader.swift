import Foundation
import PruneFormats

/// Reads a Hugging Face `config.json` (and `generation_config.json` beside it, for the end tokens).
package enum HFConfigReader {
    package static func read(path: String) throws -> ModelConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError.unreadableConfig(path: path, reason: "cannot read the file")
        }
        let root: JSONNode
        do {
            root = try JSONNodeParser.parse([UInt8](data))
        } catch {
            throw RuntimeError.unreadableConfig(path: path, reason: "\(error.message) (at byte \(error.offset))")
        }
        guard case .object = root else { throw RuntimeError.unreadableConfig(path: path, reason: "not a JSON object") }
        let c = ConfigKeys(root: root, path: path)
        var config = try parse(c)
        let generation = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("generation_config.json").path
        if let g = FileManager.default.contents(atPath: generation), let node = try? JSONNodeParser.parse([UInt8](g)) {
            for id in ConfigKeys(root: node, path: generation).tokenIDs("eos_token_id") where !config.eosTokenIDs.contains(id) {
                config.eosTokenIDs.append(id)
            }
        }
        return config
    }

    static func parse(_ c: ConfigKeys) throws -> ModelConfig {
        let type = c.root["model_type"]?.stringValue
            ?? c.root["architectures"].flatMap { if case .array(let a) = $0 { return a.first?.stringValue }; return nil }
        guard let type else { throw RuntimeError.missingConfigKey(path: c.path, key: "model_type") }
        guard let arch = KnownArchitecture(name: type) else { throw RuntimeError.unknownArchitecture(path: c.path, name: type) }
        return arch == .gpt2 ? try gpt2(c) : try rotary(c, arch)
    }

    /// An activation name of config.json (`activation_function`, `hidden_act`, `hidden_activation`).
    static func activation(_ name: String, key: String, path: String) throws -> ActivationFunction {
        switch name {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "gelu": return .geluErf
        case "relu": return .relu
        case "silu", "swish": return .silu
        default: throw RuntimeError.badConfigValue(path: path, key: key, reason: "unsupported '\(name)'")
        }
    }

    private static func gpt2(_ c: ConfigKeys) throws -> ModelConfig {
        let d = try c.int("n_embd")
        let heads = try c.int("n_head")
        guard d % heads == 0 else { throw RuntimeError.badConfigValue(path: c.path, key: "n_head", reason: "\(heads) does not divide n_embd \(d)") }
        let activation = try Self.activation(c.root["activation_function"]?.stringValue ?? "gelu_new", key: "activation_function", path: c.path)
        let scaled = c.bool("scale_attn_weights") ?? true
        return ModelConfig(
            architecture: .gpt2, vocabularySize: try c.int("vocab_size"), hiddenSize: d, layerCount: try c.int("n_layer"),
            headCount: heads, kvHeadCount: heads, headDim: d / heads,
            ffnSize: try c.optionalInt("n_inner") ?? 4 * d,
            contextLength: try c.optionalInt("n_positions") ?? c.int("n_ctx"),
            normEpsilon: Float(try c.optionalPositive("layer_norm_epsilon") ?? 1e-5), activation: activation, rope: nil,
            tiedEmbeddings: c.bool("tie_word_embeddings") ?? true,
            attentionScale: scaled ? nil : 1,
            scaleAttentionByInverseLayer: c.bool("scale_attn_by_inverse_layer_idx") ?? false,
            bosTokenID: c.tokenIDs("bos_token_id").first, eosTokenIDs: c.tokenIDs("eos_token_id"))
    }

    /// The rotary families (Llama, Mistral, Qwen 2/3, Phi-3, Gemma 2/3): one reading of their keys,
    /// the family's spec giving the defaults and the window layout.
    private static func rotary(_ c: ConfigKeys, _ arch: KnownArchitecture) throws -> ModelConfig {
        let spec = arch.spec
        let d = try c.int("hidden_size")
        let layers = try c.int("num_hidden_layers")
        let heads = try c.int("num_attention_heads")
        let kv = try c.optionalInt("num_key_value_heads") ?? heads
        guard heads % kv == 0 else {
            throw RuntimeError.badConfigValue(path: c.path, key: "num_key_value_heads", reason: "\(kv) does not divide num_attention_heads \(heads)")
        }
        let headDim: Int
        if let h = try c.optionalInt("head_dim") { headDim = h } else {
            guard d % heads == 0 else { throw RuntimeError.badConfigValue(path: c.path, key: "num_attention_heads", reason: "\(heads) does not divide hidden_size \(d)") }
            headDim = d / heads
        }
        guard headDim % 2 == 0 else { throw RuntimeError.badConfigValue(path: c.path, key: "head_dim", reason: "\(headDim) is odd") }
        let actKey = c.root["hidden_activation"]?.stringValue != nil ? "hidden_activation" : "hidden_act"
        let activation = try Self.activation(c.root[actKey]?.stringValue ?? spec.defaultActivation, key: actKey, path: c.path)
        let context = try c.int("max_position_embeddings")
        var rotated = headDim
        // transformers 5 keeps the factor in rope_parameters, older files at the top.
        let inRope = c.root["rope_parameters"].flatMap { n -> ConfigKeys? in
            if case .object = n { return ConfigKeys(root: n, path: c.path, prefix: "rope_parameters.") }
            return nil
        }
        if let f = try inRope?.optionalPositive("partial_rotary_factor") ?? c.optionalPositive("partial_rotary_factor") {
            let r = Int((Double(headDim) * f).rounded(.down))
            guard f <= 1, r >= 2, r % 2 == 0 else {
                throw RuntimeError.badConfigValue(path: c.path, key: "partial_rotary_factor", reason: "\(f) of heads of \(headDim) is not an even number of dimensions")
            }
            rotated = r
        }
        let (rope, localRope) = try ropes(c, dimensions: rotated, localByFamily: spec.recipe.localRope)
        // Sliding windows: `layer_types` where config.json lists them (transformers 5), otherwise the
        // family's layout; Qwen 2's `use_sliding_window: false` turns the window off.
        var window = try c.optionalInt("sliding_window")
        if c.bool("use_sliding_window") == false { window = nil }
        var sliding: [Bool] = []
        if window != nil {
            if case .array(let types)? = c.root["layer_types"] {
                guard types.count == layers else {
                    throw RuntimeError.badConfigValue(path: c.path, key: "layer_types", reason: "\(types.count) entries for \(layers) layers")
                }
                for (i, t) in types.enumerated() {
                    switch t.stringValue {
                    case "sliding_attention": sliding.append(true)
                    case "full_attention": sliding.append(false)
                    default: throw RuntimeError.badConfigValue(path: c.path, key: "layer_types[\(i)]", reason: "unsupported '\(t.stringValue ?? "?")'")
                    }
                }
            } else if case .everyNthGlobal = spec.recipe.windowLayout, let n = try c.optionalInt("sliding_window_pattern") {
                sliding = ModelConfig.slidingLayers(.everyNthGlobal(n), layers: layers)
            } else {
                sliding = ModelConfig.slidingLayers(spec.recipe.windowLayout, layers: layers)
            }
            if !sliding.contains(true) { window = nil; sliding = [] }
        }
        let bias = c.bool("attention_bias") ?? false
        var scale: Float?
        if let s = try c.optionalPositive("query_pre_attn_scalar") { scale = Float(1 / s.squareRoot()) }
        return ModelConfig(
            architecture: arch, vocabularySize: try c.int("vocab_size"), hiddenSize: d, layerCount: layers,
            headCount: heads, kvHeadCount: kv, headDim: headDim, ffnSize: try c.int("intermediate_size"),
            contextLength: context, normEpsilon: Float(try c.optionalPositive("rms_norm_eps") ?? 1e-6), activation: activation,
            rope: rope, tiedEmbeddings: c.bool("tie_word_embeddings") ?? spec.tiesEmbeddingsByDefault,
            attentionScale: scale,
            qkvBias: bias || spec.recipe.qkvBias, outputBias: bias, mlpBias: c.bool("mlp_bias") ?? false,
            slidingWindow: window, slidingLayers: sliding, localRope: window == nil ? nil : localRope,
            attentionSoftcap: try c.optionalPositive("attn_logit_softcapping").map(Float.init),
            finalLogitSoftcap: try c.optionalPositive("final_logit_softcapping").map(Float.init),
            embeddingScale: spec.recipe.scalesEmbedding ? Float(Double(d).squareRoot()) : nil,
            bosTokenID: c.tokenIDs("bos_token_id").first, eosTokenIDs: c.tokenIDs("eos_token_id"))
    }

    /// The global RoPE and, for families with local layers, the local one. transformers 5 keeps
    /// them in `rope_parameters` (keyed by layer type where they differ); older files use
    /// `rope_theta`, `rope_scaling` and `rope_local_base_freq`.
    private static func ropes(_ c: ConfigKeys, dimensions: Int, localByFamily: Bool) throws -> (RopeConfig, RopeConfig?) {
        func object(_ n: JSONNode?) -> JSONNode? { if case .object? = n { return n }; return nil }
        let params = object(c.root["rope_parameters"])
        if let p = params, let full = object(p["full_attention"]) {
            let global = try rope(full, c, key: "rope_parameters.full_attention.", dimensions: dimensions)
            let local = try object(p["sliding_attention"]).map { try rope($0, c, key: "rope_parameters.sliding_attention.", dimensions: dimensions) }
            return (global, localByFamily ? local : nil)
        }
        var node = params ?? .object([])
        var key = "rope_parameters."
        if let s = object(c.root["rope_scaling"]) { node = s; key = "rope_scaling." }
        var global = try rope(node, c, key: key, dimensions: dimensions)
        let paramsTheta = try params.flatMap { try ConfigKeys(root: $0, path: c.path, prefix: "rope_parameters.").optionalPositive("rope_theta") }
        global.theta = try paramsTheta ?? c.optionalPositive("rope_theta") ?? 10000
        var local: RopeConfig?
        if localByFamily { local = RopeConfig(theta: try c.optionalPositive("rope_local_base_freq") ?? 10000, dimensions: dimensions) }
        return (global, local)
    }

    /// One RoPE from an object with `rope_theta` and the scaling keys (`rope_type` or `type`).
    private static func rope(_ s: JSONNode, _ c: ConfigKeys, key: String, dimensions: Int) throws -> RopeConfig {
        let sub = ConfigKeys(root: s, path: c.path, prefix: key)
        let kind = s["rope_type"]?.stringValue ?? s["type"]?.stringValue ?? "default"
        var scaling = RopeScaling.none
        switch kind {
        case "default": break
        case "linear": scaling = .linear(factor: try sub.positive("factor"))
        case "llama3":
            scaling = .llama3(factor: try sub.positive("factor"), lowFrequencyFactor: try sub.positive("low_freq_factor"),
                              highFrequencyFactor: try sub.positive("high_freq_factor"),
                              originalContext: try sub.int("original_max_position_embeddings"))
        default: throw RuntimeError.unsupportedRopeScaling(path: c.path, kind: kind)
        }
        return RopeConfig(theta: try sub.optionalPositive("rope_theta") ?? 10000, dimensions: dimensions, scaling: scaling)
    }
}

/// Typed access to the keys of a config.json object, with errors naming the key.
struct ConfigKeys {
    let root: JSONNode
    let path: String
    var prefix = ""

    static func double(_ n: JSONNode) -> Double? {
        if case .number(let t) = n { return Double(t) }
        return nil
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let n = root[key], n != .null else { return nil }
        guard let v = ConfigKeys.double(n), v.isFinite else {
            throw RuntimeError.badConfigValue(path: path, key: prefix + key, reason: "not a number")
        }
        return v
    }

    /// A positive number (`PositiveParameter`, the rule of the GGUF reader too).
    func optionalPositive(_ key: String) throws -> Double? {
        guard let v = try optionalDouble(key) else { return nil }
        guard PositiveParameter.isValid(v) else {
            throw RuntimeError.badConfigValue(path: path, key: prefix + key, reason: "\(v) \(PositiveParameter.requirement)")
        }
        return v
    }

    func positive(_ key: String) throws -> Double {
        guard let v = try optionalPositive(key) else { throw RuntimeError.missingConfigKey(path: path, key: prefix + key) }
        return v
    }

    /// A positive integer (at most 2³¹).
    func optionalInt(_ key: String) throws -> Int? {
        guard let n = root[key], n != .null else { return nil }
        guard let v = ConfigKeys.double(n), v.rounded() == v, v >= 1, v <= 2_147_483_648 else {
            throw RuntimeError.badConfigValue(path: path, key: prefix + key, reason: "not a positive integer")
        }
        return Int(v)
    }

    func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw RuntimeError.missingConfigKey(path: path, key: prefix + key) }
        return v
    }

    func bool(_ key: String) -> Bool? {
        if case .bool(let b)? = root[key] { return b }
        return nil
    }

    /// A token id or a list of them (Llama 3 lists several end tokens).
    func tokenIDs(_ key: String) -> [Int32] {
        func id(_ n: JSONNode) -> Int32? {
            guard let v = ConfigKeys.double(n), v.rounded() == v, v >= 0, v < 2_147_483_647 else { return nil }
            return Int32(v)
        }
        switch root[key] {
        case .array(let items)?: return items.compactMap(id)
        case let n?: return id(n).map { [$0] } ?? []
        case nil: return []
        }
    }
}
