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
        switch type.lowercased() {
        case "gpt2", "gpt2lmheadmodel": return try gpt2(c)
        case "llama", "llamaforcausallm": return try llama(c, mistral: false)
        case "mistral", "mistralforcausallm": return try llama(c, mistral: true)
        default: throw RuntimeError.unknownArchitecture(path: c.path, name: type)
        }
    }

    private static func gpt2(_ c: ConfigKeys) throws -> ModelConfig {
        let d = try c.int("n_embd")
        let heads = try c.int("n_head")
        guard d % heads == 0 else { throw RuntimeError.badConfigValue(path: c.path, key: "n_head", reason: "\(heads) does not divide n_embd \(d)") }
        let activation: ActivationFunction
        switch c.root["activation_function"]?.stringValue ?? "gelu_new" {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": activation = .geluTanh
        case "gelu": activation = .geluErf
        case "relu": activation = .relu
        case "silu", "swish": activation = .silu
        case let other: throw RuntimeError.badConfigValue(path: c.path, key: "activation_function", reason: "unsupported '\(other)'")
        }
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

    private static func llama(_ c: ConfigKeys, mistral: Bool) throws -> ModelConfig {
        let d = try c.int("hidden_size")
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
        let act = c.root["hidden_act"]?.stringValue ?? "silu"
        guard act == "silu" || act == "swish" else {
            throw RuntimeError.badConfigValue(path: c.path, key: "hidden_act", reason: "unsupported '\(act)'")
        }
        let context = try c.int("max_position_embeddings")
        if mistral, let w = try c.optionalInt("sliding_window"), w < context {
            throw RuntimeError.badConfigValue(path: c.path, key: "sliding_window", reason: "a sliding window of \(w) is not supported")
        }
        // transformers 5 keeps theta and scaling in rope_parameters; older files use rope_theta and rope_scaling.
        let params = c.root["rope_parameters"].flatMap { if case .object = $0 { return $0 }; return nil }
        var theta = 10000.0
        if let p = params, let t = try ConfigKeys(root: p, path: c.path, prefix: "rope_parameters.").optionalPositive("rope_theta") { theta = t }
        else if let t = try c.optionalPositive("rope_theta") { theta = t }
        var scalingNode: JSONNode? = params
        var key = "rope_parameters"
        if case .object? = c.root["rope_scaling"] {
            scalingNode = c.root["rope_scaling"]
            key = "rope_scaling"
        }
        var scaling = RopeScaling.none
        if let s = scalingNode {
            let sub = ConfigKeys(root: s, path: c.path, prefix: key + ".")
            let kind = s["rope_type"]?.stringValue ?? s["type"]?.stringValue ?? "default"
            switch kind {
            case "default": break
            case "linear": scaling = .linear(factor: try sub.positive("factor"))
            case "llama3":
                scaling = .llama3(factor: try sub.positive("factor"), lowFrequencyFactor: try sub.positive("low_freq_factor"),
                                  highFrequencyFactor: try sub.positive("high_freq_factor"),
                                  originalContext: try sub.int("original_max_position_embeddings"))
            default: throw RuntimeError.unsupportedRopeScaling(path: c.path, kind: kind)
            }
        }
        let bias = c.bool("attention_bias") ?? false
        return ModelConfig(
            architecture: .llama, vocabularySize: try c.int("vocab_size"), hiddenSize: d, layerCount: try c.int("num_hidden_layers"),
            headCount: heads, kvHeadCount: kv, headDim: headDim, ffnSize: try c.int("intermediate_size"),
            contextLength: context, normEpsilon: Float(try c.optionalPositive("rms_norm_eps") ?? 1e-6), activation: .silu,
            rope: RopeConfig(theta: theta, dimensions: headDim, scaling: scaling),
            tiedEmbeddings: c.bool("tie_word_embeddings") ?? false,
            attentionBias: bias, mlpBias: c.bool("mlp_bias") ?? false,
            bosTokenID: c.tokenIDs("bos_token_id").first, eosTokenIDs: c.tokenIDs("eos_token_id"))
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
