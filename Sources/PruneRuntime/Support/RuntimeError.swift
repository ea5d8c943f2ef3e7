import Foundation

/// Why a model cannot be loaded or run. Every message is one line naming the file and the place.
public enum RuntimeError: LocalizedError, Sendable, Equatable {
    case missingConfig(folder: String)
    case missingWeights(folder: String)
    case missingShard(index: String, shard: String)
    case badShardIndex(index: String, reason: String)
    case unreadableConfig(path: String, reason: String)
    case unknownArchitecture(path: String, name: String)
    case missingConfigKey(path: String, key: String)
    case badConfigValue(path: String, key: String, reason: String)
    case unsupportedRopeScaling(path: String, kind: String)
    case missingMetadata(path: String, key: String)
    case badMetadata(path: String, key: String, reason: String)
    case missingTensor(path: String, name: String)
    /// Tensors of the files that a model of this configuration does not use.
    case unusedTensors(path: String, names: [String], layers: Int, architecture: String)
    case tensorInOtherShard(index: String, tensor: String, listed: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    case unsupportedTensorType(path: String, tensor: String, type: String)
    case promptTooLong(sequence: Int, length: Int, context: Int)
    case emptyPrompt(sequence: Int)
    case tokenOutOfRange(sequence: Int, position: Int, id: Int32, vocabulary: Int)
    case badLayer(layer: Int, layerCount: Int)
    case badPosition(sequence: Int, position: Int, length: Int)
    case badArgument(String)
    case missingTokenizer(path: String)
    /// The logits predicting `position` of prompt `sequence` hold NaN or an infinity.
    case nonFiniteLogits(sequence: Int, position: Int)

    public var errorDescription: String? { oneLine(rawDescription) }

    private var rawDescription: String {
        switch self {
        case .missingConfig(let f): return "\(f): no config.json in the model folder (config.json)"
        case .missingWeights(let f):
            return "\(f): no model.safetensors nor model.safetensors.index.json in the model folder (weights)"
        case .missingShard(let i, let s): return "\(i): shard '\(s)' does not exist (weight_map)"
        case .badShardIndex(let i, let r): return "\(i): \(r) (shard index)"
        case .unreadableConfig(let p, let r): return "\(p): cannot read the configuration: \(r)"
        case .unknownArchitecture(let p, let n): return "\(p): unknown architecture '\(n)', expected gpt2 or llama (architecture)"
        case .missingConfigKey(let p, let k): return "\(p): missing key '\(k)' (configuration)"
        case .badConfigValue(let p, let k, let r): return "\(p): invalid value for '\(k)': \(r) (configuration)"
        case .unsupportedRopeScaling(let p, let k): return "\(p): unsupported RoPE scaling '\(k)' (rope scaling)"
        case .missingMetadata(let p, let k): return "\(p): missing metadata key '\(k)' (GGUF metadata)"
        case .badMetadata(let p, let k, let r): return "\(p): invalid metadata '\(k)': \(r) (GGUF metadata)"
        case .missingTensor(let p, let n): return "\(p): missing tensor '\(n)' (tensor table)"
        case .unusedTensors(let p, let names, let l, let a):
            let shown = names.prefix(4).map { "'\($0)'" }.joined(separator: ", ") + (names.count > 4 ? ", …" : "")
            let count = names.count == 1 ? "1 tensor" : "\(names.count) tensors"
            return "\(p): \(count) that the configuration (\(a), \(l) layers) does not use: \(shown) (tensor table)"
        case .tensorInOtherShard(let i, let t, let s): return "\(i): tensor '\(t)' is not in its shard '\(s)' (weight_map)"
        case .shapeMismatch(let p, let t, let e, let f):
            return "\(p): tensor '\(t)' has shape \(f), the configuration needs \(e) (tensor '\(t)')"
        case .unsupportedTensorType(let p, let t, let ty): return "\(p): cannot compute with type \(ty) (tensor '\(t)')"
        case .promptTooLong(let s, let n, let c):
            return "prompt \(s): \(n) tokens exceed the model's context of \(c) (prompt \(s))"
        case .emptyPrompt(let s): return "prompt \(s): no tokens (prompt \(s))"
        case .tokenOutOfRange(let s, let p, let id, let v):
            return "prompt \(s): token id \(id) is outside the vocabulary of \(v) (prompt \(s), position \(p))"
        case .badLayer(let l, let n): return "layer \(l) is out of range, the model has \(n) blocks (layer)"
        case .badPosition(let s, let p, let n): return "prompt \(s): position \(p) is outside its \(n) tokens (prompt \(s))"
        case .badArgument(let r): return r
        case .missingTokenizer(let p): return "\(p): no tokenizer (tokenizer)"
        case .nonFiniteLogits(let s, let p):
            return "prompt \(s): the model's logits are not finite (NaN or infinity) (prompt \(s), position \(p))"
        }
    }
}

/// Control characters escaped so that names read from files keep the message on one line.
func oneLine(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 || u.value == 0x7F { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
        }
    }
    return out
}
