import PruneFormats

/// Reads the hyperparameters of a GGUF file from its metadata (`<arch>.*` keys, as llama.cpp's
/// converter writes them).
enum GGUFConfigReader {
    static func read(header: GGUFHeader, path: String, tensorShape: (String) -> [Int]?) throws -> ModelConfig {
        guard let archName = header["general.architecture"]?.stringValue else {
            throw RuntimeError.missingMetadata(path: path, key: "general.architecture")
        }
        let arch: ModelArchitecture
        switch archName {
        case "gpt2": arch = .gpt2
        case "llama", "mistral": arch = .llama
        default: throw RuntimeError.unknownArchitecture(path: path, name: archName)
        }
        let m = GGUFKeys(header: header, path: path, arch: archName)
        let d = try m.int("embedding_length")
        let heads = try m.int("attention.head_count")
        let kv = try m.optionalInt("attention.head_count_kv") ?? heads
        guard heads % kv == 0 else {
            throw RuntimeError.badMetadata(path: path, key: "\(archName).attention.head_count_kv", reason: "\(kv) does not divide the head count \(heads)")
        }
        let vocab: Int
        if let v = try m.optionalInt("vocab_size") { vocab = v }
        else if let shape = tensorShape("token_embd.weight"), shape.count == 2 { vocab = shape[1] }
        else if case .array(let tokens)? = header["tokenizer.ggml.tokens"] { vocab = tokens.count }
        else { throw RuntimeError.missingMetadata(path: path, key: "\(archName).vocab_size") }
        // One token per row of the embedding, as llama.cpp requires: a shorter list leaves ids without
        // a text, a longer one ids without a vector.
        if case .array(let tokens)? = header["tokenizer.ggml.tokens"], let shape = tensorShape("token_embd.weight"),
           shape.count == 2, tokens.count != shape[1] {
            throw RuntimeError.badMetadata(path: path, key: "tokenizer.ggml.tokens",
                                           reason: "\(tokens.count) tokens for the \(shape[1]) rows of token_embd.weight")
        }
        let bos = (try? m.optionalGlobalInt("tokenizer.ggml.bos_token_id")).flatMap { $0 }.map { Int32($0) }
        let eos = (try? m.optionalGlobalInt("tokenizer.ggml.eos_token_id")).flatMap { $0 }.map { Int32($0) }
        var eosList = eos.map { [$0] } ?? []
        if let eot = (try? m.optionalGlobalInt("tokenizer.ggml.eot_token_id")).flatMap({ $0 }), !eosList.contains(Int32(eot)) {
            eosList.append(Int32(eot))
        }
        switch arch {
        case .gpt2:
            guard d % heads == 0 else {
                throw RuntimeError.badMetadata(path: path, key: "gpt2.attention.head_count", reason: "\(heads) does not divide the embedding length \(d)")
            }
            return ModelConfig(
                architecture: .gpt2, vocabularySize: vocab, hiddenSize: d, layerCount: try m.int("block_count"),
                headCount: heads, kvHeadCount: heads, headDim: d / heads, ffnSize: try m.int("feed_forward_length"),
                contextLength: try m.int("context_length"), normEpsilon: try m.float("attention.layer_norm_epsilon"),
                activation: .geluTanh, rope: nil, tiedEmbeddings: tensorShape("output.weight") == nil,
                bosTokenID: bos, eosTokenIDs: eosList)
        case .llama:
            let headDim: Int
            if let k = try m.optionalInt("attention.key_length") { headDim = k } else {
                guard d % heads == 0 else {
                    throw RuntimeError.missingMetadata(path: path, key: "\(archName).attention.key_length")
                }
                headDim = d / heads
            }
            if let v = try m.optionalInt("attention.value_length"), v != headDim {
                throw RuntimeError.badMetadata(path: path, key: "\(archName).attention.value_length", reason: "\(v) differs from the key length \(headDim)")
            }
            guard headDim % 2 == 0 else {
                throw RuntimeError.badMetadata(path: path, key: "\(archName).attention.key_length", reason: "\(headDim) is odd")
            }
            let rotary = try m.optionalInt("rope.dimension_count") ?? headDim
            guard rotary % 2 == 0, rotary <= headDim else {
                throw RuntimeError.badMetadata(path: path, key: "\(archName).rope.dimension_count", reason: "\(rotary) for heads of \(headDim)")
            }
            var scaling = RopeScaling.none
            if let type = header["\(archName).rope.scaling.type"]?.stringValue {
                switch type {
                case "none": break
                case "linear": scaling = .linear(factor: Double(try m.float("rope.scaling.factor")))
                default: throw RuntimeError.unsupportedRopeScaling(path: path, kind: type)
                }
            }
            return ModelConfig(
                architecture: .llama, vocabularySize: vocab, hiddenSize: d, layerCount: try m.int("block_count"),
                headCount: heads, kvHeadCount: kv, headDim: headDim, ffnSize: try m.int("feed_forward_length"),
                contextLength: try m.int("context_length"), normEpsilon: try m.float("attention.layer_norm_rms_epsilon"),
                activation: .silu,
                rope: RopeConfig(theta: Double(try m.optionalFloat("rope.freq_base") ?? 10000), dimensions: rotary, scaling: scaling),
                tiedEmbeddings: tensorShape("output.weight") == nil,
                attentionBias: tensorShape("blk.0.attn_q.bias") != nil,
                bosTokenID: bos, eosTokenIDs: eosList)
        }
    }
}

/// Typed access to `<arch>.*` metadata with errors naming the key.
struct GGUFKeys {
    let header: GGUFHeader
    let path: String
    let arch: String

    func optionalGlobalInt(_ key: String) throws -> Int? {
        guard let v = header[key] else { return nil }
        guard let i = v.integerValue, i >= 0, i <= Int64(Int32.max) else {
            throw RuntimeError.badMetadata(path: path, key: key, reason: "not a non-negative integer")
        }
        return Int(i)
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let i = try optionalGlobalInt("\(arch).\(key)") else { return nil }
        guard i >= 1 else { throw RuntimeError.badMetadata(path: path, key: "\(arch).\(key)", reason: "must be positive") }
        return i
    }

    func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw RuntimeError.missingMetadata(path: path, key: "\(arch).\(key)") }
        return v
    }

    func optionalFloat(_ key: String) throws -> Float? {
        guard let v = header["\(arch).\(key)"] else { return nil }
        let f: Float
        switch v {
        case .float32(let x): f = x
        case .float64(let x): f = Float(x)
        default:
            guard let i = v.integerValue else { throw RuntimeError.badMetadata(path: path, key: "\(arch).\(key)", reason: "not a number") }
            f = Float(i)
        }
        guard PositiveParameter.isValid(Double(f)) else {
            throw RuntimeError.badMetadata(path: path, key: "\(arch).\(key)", reason: PositiveParameter.requirement)
        }
        return f
    }

    func float(_ key: String) throws -> Float {
        guard let v = try optionalFloat(key) else { throw RuntimeError.missingMetadata(path: path, key: "\(arch).\(key)") }
        return v
    }
}
