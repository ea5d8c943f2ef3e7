import PruneFormats

/// Reads the hyperparameters of a GGUF file from its metadata (`<arch>.*` keys, as llama.cpp's
/// converter writes them).
enum GGUFConfigReader {
    static func read(header: GGUFHeader, path: String, tensorShape: (String) -> [Int]?) throws -> ModelConfig {
        guard let archName = header["general.architecture"]?.stringValue else {
            throw RuntimeError.missingMetadata(path: path, key: "general.architecture")
        }
        guard let arch = KnownArchitecture(name: archName), arch.spec.ggufNames.contains(archName) else {
            throw RuntimeError.unknownArchitecture(path: path, name: archName)
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
        if arch == .gpt2 {
            guard d % heads == 0 else {
                throw RuntimeError.badMetadata(path: path, key: "gpt2.attention.head_count", reason: "\(heads) does not divide the embedding length \(d)")
            }
            return ModelConfig(
                architecture: .gpt2, vocabularySize: vocab, hiddenSize: d, layerCount: try m.int("block_count"),
                headCount: heads, kvHeadCount: heads, headDim: d / heads, ffnSize: try m.int("feed_forward_length"),
                contextLength: try m.int("context_length"), normEpsilon: try m.float("attention.layer_norm_epsilon"),
                activation: .geluTanh, rope: nil, tiedEmbeddings: tensorShape("output.weight") == nil,
                bosTokenID: bos, eosTokenIDs: eosList)
        }
        let recipe = arch.spec.recipe
        let layers = try m.int("block_count")
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
        let rope = RopeConfig(theta: Double(try m.optionalFloat("rope.freq_base") ?? 10000), dimensions: rotary, scaling: scaling)
        // Sliding windows as llama.cpp lays them out for the family (Gemma 2: every other layer from
        // 0, a window of 4096 unless the file says; Gemma 3: 5 local to 1 global, local layers with
        // their own base, 10000 unless the file says, and no scaling; Phi-3: none).
        // A window of 0 is none (llama.cpp's converter writes 0 for Phi-3 models without one).
        var window = try m.optionalGlobalInt("\(archName).attention.sliding_window") ?? arch.spec.ggufDefaultWindow
        if window == 0 { window = nil }
        var sliding: [Bool] = []
        if window != nil {
            let key = "\(archName).attention.sliding_window_pattern"
            switch header[key] {
            case .array(let flags)?:
                guard flags.elementType == .bool, case .packed(let bytes) = flags.storage, bytes.count == layers else {
                    throw RuntimeError.badMetadata(path: path, key: key, reason: "not \(layers) booleans")
                }
                sliding = bytes.map { $0 != 0 }
            case let v?:
                guard let n = v.integerValue, n >= 0, n <= layers else { throw RuntimeError.badMetadata(path: path, key: key, reason: "not a layer period") }
                sliding = n == 0 ? ModelConfig.slidingLayers(.all, layers: layers) : ModelConfig.slidingLayers(.everyNthGlobal(Int(n)), layers: layers)
            case nil:
                sliding = ModelConfig.slidingLayers(arch.spec.ggufWindowLayout, layers: layers)
            }
        }
        let hasWindow = window != nil && sliding.contains(true)
        var localRope: RopeConfig?
        if recipe.localRope, hasWindow {
            localRope = RopeConfig(theta: Double(try m.optionalFloat("rope.freq_base_swa") ?? 10000), dimensions: rotary)
        }
        // llama.cpp scales Gemma's queries by 1/√head_dim, by 1/√(hidden/heads) for the 27B models
        // (46 Gemma 2 layers, 62 Gemma 3 layers), as their query_pre_attn_scalar says.
        var scale: Float?
        if let s = try m.optionalFloat("attention.scale") { scale = s }
        else if arch.spec.ggufWidthScaledQueriesAtDepth == layers { scale = 1 / Float(d / heads).squareRoot() }
        return ModelConfig(
            architecture: arch, vocabularySize: vocab, hiddenSize: d, layerCount: layers,
            headCount: heads, kvHeadCount: kv, headDim: headDim, ffnSize: try m.int("feed_forward_length"),
            contextLength: try m.int("context_length"), normEpsilon: try m.float("attention.layer_norm_rms_epsilon"),
            activation: try HFConfigReader.activation(arch.spec.defaultActivation, key: "general.architecture", path: path),
            rope: rope, tiedEmbeddings: tensorShape("output.weight") == nil, attentionScale: scale,
            qkvBias: tensorShape("blk.0.attn_q.bias") != nil || tensorShape("blk.0.attn_qkv.bias") != nil,
            outputBias: tensorShape("blk.0.attn_output.bias") != nil, mlpBias: tensorShape("blk.0.ffn_down.bias") != nil,
            slidingWindow: hasWindow ? window : nil, slidingLayers: hasWindow ? sliding : [], localRope: localRope,
            attentionSoftcap: try m.optionalFloat("attn_logit_softcapping"),
            finalLogitSoftcap: try m.optionalFloat("final_logit_softcapping"),
            embeddingScale: recipe.scalesEmbedding ? Float(Double(d).squareRoot()) : nil,
            bosTokenID: bos, eosTokenIDs: eosList)
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
