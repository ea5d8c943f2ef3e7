import PruneFormats

/// Builds `ModelWeights` from a tensor store: finds each tensor the configuration needs, checks its
/// shape, and wraps it without copying (f32) or in its stored form (16-bit, quantized). A tensor the
/// configuration does not use is an error naming it (a config.json with fewer layers than the
/// weights would otherwise run another model), except the buffers that checkpoints carry beside the
/// parameters (`unusedButAccepted`).
struct WeightLoader {
    let store: TensorStore
    let config: ModelConfig
    private var names: [String: String] = [:]
    /// Canonical names of the tensors read.
    private var used: Set<String> = []

    init(store: TensorStore, config: ModelConfig) {
        self.store = store
        self.config = config
    }

    static func load(store: TensorStore, config: inout ModelConfig) throws -> ModelWeights {
        // llama.cpp stores Llama 3 RoPE scaling as per-pair frequency divisors.
        if store.format == .gguf, var rope = config.rope, let e = store.entry("rope_freqs.weight") {
            let loader = WeightLoader(store: store, config: config)
            let factors = try loader.vector(e, canonical: "rope_freqs.weight", count: rope.dimensions / 2)
            rope.scaling = .frequencyFactors(factors)
            config.rope = rope
        }
        var loader = WeightLoader(store: store, config: config)
        let weights = try loader.build()
        try loader.refuseUnused()
        return weights
    }

    /// Tensors of Hugging Face checkpoints that are not parameters of the model: GPT-2's causal
    /// mask buffers (`h.N.attn.bias`, `h.N.attn.masked_bias`) and older Llama checkpoints' RoPE
    /// frequencies (`…rotary_emb.inv_freq`), which transformers itself recomputes and ignores.
    static let unusedButAccepted = [".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq"]

    /// Every tensor of the files is one the configuration reads, or an accepted buffer; the output
    /// head of a Hugging Face checkpoint with tied embeddings (`lm_head.weight`, a copy) is accepted;
    /// llama.cpp's `rope_freqs.weight` is read when the model has RoPE.
    private func refuseUnused() throws {
        var accepted = used
        if config.tiedEmbeddings { accepted.insert("output.weight") }
        if config.rope != nil { accepted.insert("rope_freqs.weight") }
        var unused: [String] = []
        for file in store.files {
            for t in file.tensors {
                let c = TensorNaming.canonicalName(t.name, arch: store.architecture) ?? t.name
                if accepted.contains(c) || (store.format == .safetensors && Self.unusedButAccepted.contains(where: { t.name.hasSuffix($0) })) {
                    continue
                }
                unused.append(t.name)
            }
        }
        guard !unused.isEmpty else { return }
        throw RuntimeError.unusedTensors(path: store.displayPath, names: unused, layers: config.layerCount,
                                         architecture: config.architecture.rawValue)
    }

    private mutating func build() throws -> ModelWeights {
        let c = config
        let d = c.hiddenSize
        let embedding = try matrix("token_embd.weight", rows: c.vocabularySize, cols: d)
        let output: WeightMatrix
        if store.entry("output.weight") != nil && !(c.tiedEmbeddings && store.format == .safetensors) {
            output = try matrix("output.weight", rows: c.vocabularySize, cols: d)
        } else if c.tiedEmbeddings {
            output = embedding
        } else {
            throw RuntimeError.missingTensor(path: store.displayPath, name: store.fileName("output.weight"))
        }
        var position: WeightMatrix?
        var layers: [LayerWeights] = []
        let outputNorm: NormWeights
        switch c.recipe.positions {
        case .learned:
            position = try matrix("position_embd.weight", rows: c.contextLength, cols: d)
            outputNorm = try norm("output_norm", bias: true)
            for l in 0..<c.layerCount {
                let b = "blk.\(l)."
                layers.append(LayerWeights(
                    attentionNorm: try norm(b + "attn_norm", bias: true),
                    qkv: try matrix(b + "attn_qkv.weight", rows: 3 * d, cols: d), qkvBias: try vector(b + "attn_qkv.bias", 3 * d),
                    query: nil, key: nil, value: nil, queryBias: nil, keyBias: nil, valueBias: nil,
                    attentionOutput: try matrix(b + "attn_output.weight", rows: d, cols: d),
                    attentionOutputBias: try vector(b + "attn_output.bias", d),
                    mlpNorm: try norm(b + "ffn_norm", bias: true),
                    gate: nil, gateBias: nil,
                    up: try matrix(b + "ffn_up.weight", rows: c.ffnSize, cols: d), upBias: try vector(b + "ffn_up.bias", c.ffnSize),
                    down: try matrix(b + "ffn_down.weight", rows: d, cols: c.ffnSize), downBias: try vector(b + "ffn_down.bias", d)))
            }
        case .rotary:
            outputNorm = try norm("output_norm", bias: false)
            let q = c.queryWidth, kv = c.kvWidth, f = c.ffnSize, hd = c.headDim
            let qb = c.qkvBias, ob = c.outputBias, mb = c.mlpBias
            let recipe = c.recipe
            for l in 0..<c.layerCount {
                let b = "blk.\(l)."
                var w = LayerWeights(
                    attentionNorm: try norm(b + "attn_norm", bias: false),
                    qkv: nil, qkvBias: nil, query: nil, key: nil, value: nil, queryBias: nil, keyBias: nil, valueBias: nil,
                    attentionOutput: try matrix(b + "attn_output.weight", rows: d, cols: q),
                    attentionOutputBias: ob ? try vector(b + "attn_output.bias", d) : nil,
                    mlpNorm: try norm(b + "ffn_norm", bias: false),
                    gate: nil, gateBias: nil,
                    up: try matrix(b + "ffn_up.weight", rows: store.entry(b + "ffn_gate.weight") == nil ? 2 * f : f, cols: d),
                    upBias: nil,
                    down: try matrix(b + "ffn_down.weight", rows: d, cols: f), downBias: mb ? try vector(b + "ffn_down.bias", d) : nil)
                if store.entry(b + "attn_qkv.weight") != nil {
                    w.qkv = try matrix(b + "attn_qkv.weight", rows: q + 2 * kv, cols: d)
                    w.qkvBias = qb ? try vector(b + "attn_qkv.bias", q + 2 * kv) : nil
                } else {
                    w.query = try matrix(b + "attn_q.weight", rows: q, cols: d, heads: c.headCount)
                    w.key = try matrix(b + "attn_k.weight", rows: kv, cols: d, heads: c.kvHeadCount)
                    w.value = try matrix(b + "attn_v.weight", rows: kv, cols: d)
                    w.queryBias = qb ? try vector(b + "attn_q.bias", q, heads: c.headCount) : nil
                    w.keyBias = qb ? try vector(b + "attn_k.bias", kv, heads: c.kvHeadCount) : nil
                    w.valueBias = qb ? try vector(b + "attn_v.bias", kv) : nil
                }
                if recipe.qkNorm {
                    w.queryNorm = NormWeights(weight: try normScale(b + "attn_q_norm.weight", hd))
                    w.keyNorm = NormWeights(weight: try normScale(b + "attn_k_norm.weight", hd))
                }
                if recipe.sandwichNorms {
                    w.attentionPostNorm = try norm(b + "post_attention_norm", bias: false)
                    w.mlpPostNorm = try norm(b + "post_ffw_norm", bias: false)
                }
                if store.entry(b + "ffn_gate.weight") != nil {
                    w.gate = try matrix(b + "ffn_gate.weight", rows: f, cols: d)
                    w.gateBias = mb ? try vector(b + "ffn_gate.bias", f) : nil
                    w.upBias = mb ? try vector(b + "ffn_up.bias", f) : nil
                } else {
                    guard recipe.feedForward == .gated else {
                        throw RuntimeError.missingTensor(path: store.displayPath, name: store.fileName(b + "ffn_gate.weight"))
                    }
                    w.upBias = mb ? try vector(b + "ffn_up.bias", 2 * f) : nil
                }
                layers.append(w)
            }
        }
        return ModelWeights(config: c, tokenEmbedding: embedding, positionEmbedding: position, outputNorm: outputNorm,
                            output: output, layers: layers, names: names, store: store)
    }

    private mutating func required(_ canonical: String) throws -> TensorStore.Entry {
        guard let e = store.entry(canonical) else {
            throw RuntimeError.missingTensor(path: store.displayPath, name: store.fileName(canonical))
        }
        used.insert(canonical)
        return e
    }

    private mutating func norm(_ prefix: String, bias: Bool) throws -> NormWeights {
        NormWeights(weight: try normScale(prefix + ".weight", config.hiddenSize),
                    bias: bias ? try vector(prefix + ".bias", config.hiddenSize) : nil)
    }

    /// A norm's scale. Gemma's Hugging Face files store w of a norm that scales by 1 + w (computed in
    /// f32, as here); GGUF files already hold 1 + w.
    private mutating func normScale(_ canonical: String, _ count: Int) throws -> [Float] {
        var w = try vector(canonical, count)
        if store.format == .safetensors, config.architecture.spec.hfNormAddsOne { w = w.map { 1 + $0 } }
        return w
    }

    /// A 1-D tensor of `count` values decoded to f32 (GGUF q/k biases un-permuted like their rows).
    private mutating func vector(_ canonical: String, _ count: Int, heads: Int? = nil) throws -> [Float] {
        let e = try required(canonical)
        var v = try vector(e, canonical: canonical, count: count)
        if store.format == .gguf, let h = heads, config.architecture.spec.permutesQK {
            let source = TensorNaming.permutationSource(count: count, heads: h)
            var logical = v
            for s in 0..<count { logical[source[s]] = v[s] }
            v = logical
        }
        return v
    }

    func vector(_ e: TensorStore.Entry, canonical: String, count: Int) throws -> [Float] {
        guard e.info.elementCount == count, e.info.shape.filter({ $0 != 1 }).count <= 1 else {
            throw RuntimeError.shapeMismatch(path: e.file.path, tensor: e.info.name, expected: [count], found: e.info.shape)
        }
        guard TensorCodec.canDecode(e.info.type) else {
            throw RuntimeError.unsupportedTensorType(path: e.file.path, tensor: e.info.name, type: e.info.type.description)
        }
        return try TensorCodec.decode(UnsafeRawBufferPointer(start: e.base, count: e.info.byteCount), as: e.info.type, count: count)
    }

    /// A weight matrix of logical shape [rows, cols]. `heads`: the q/k projections, whose GGUF rows
    /// llama.cpp permuted.
    private mutating func matrix(_ canonical: String, rows: Int, cols: Int, heads: Int? = nil) throws -> WeightMatrix {
        let e = try required(canonical)
        names[canonical] = e.info.name
        let info = e.info
        let path = e.file.path
        guard info.shape.count == 2, let shape = info.matrixShape else {
            throw RuntimeError.shapeMismatch(path: path, tensor: info.name, expected: expectedShape(rows, cols, transposed: false), found: info.shape)
        }
        // Hugging Face GPT-2 stores its Conv1D weights [in, out]; GGUF stores every matrix out × in.
        var transposed = false
        if store.format == .safetensors,
           TensorNaming.ggufOrientation(canonical: canonical, arch: store.architecture, heads: nil, headsKV: nil) == .transposed {
            transposed = true
        }
        let (r, c) = transposed ? (shape.cols, shape.rows) : (shape.rows, shape.cols)
        guard r == rows, c == cols else {
            throw RuntimeError.shapeMismatch(path: path, tensor: info.name, expected: expectedShape(rows, cols, transposed: transposed), found: info.shape)
        }
        var logicalRow: [Int]?
        if store.format == .gguf, let h = heads, config.architecture.spec.permutesQK {
            guard rows % (2 * h) == 0 else {
                throw RuntimeError.shapeMismatch(path: path, tensor: info.name, expected: expectedShape(rows, cols, transposed: false), found: info.shape)
            }
            logicalRow = TensorNaming.permutationSource(count: rows, heads: h)
        }
        let storage: WeightMatrix.Storage
        let isF32: Bool
        switch info.type {
        case .safetensors(.f32), .ggml(.f32): isF32 = true
        default: isF32 = false
        }
        if isF32, Int(bitPattern: e.base) % MemoryLayout<Float>.alignment == 0 {
            let p = e.base.assumingMemoryBound(to: Float.self)
            storage = transposed ? .f32Transposed(p) : .f32(p)
        } else {
            guard TensorCodec.canDecode(info.type) else {
                throw RuntimeError.unsupportedTensorType(path: path, tensor: info.name, type: info.type.description)
            }
            if transposed {
                guard let bytes = info.type.byteCount(forElements: 1) else {
                    throw RuntimeError.unsupportedTensorType(path: path, tensor: info.name, type: info.type.description)
                }
                storage = .encodedTransposed(e.base, info.type, elementBytes: bytes)
            } else {
                guard let rowBytes = info.type.byteCount(forElements: cols), rowBytes * rows == info.byteCount else {
                    throw RuntimeError.unsupportedTensorType(path: path, tensor: info.name, type: info.type.description)
                }
                storage = .encoded(e.base, info.type, rowBytes: rowBytes)
            }
        }
        return WeightMatrix(name: info.name, rows: rows, cols: cols, storage: storage, logicalRow: logicalRow, owner: e.file)
    }

    /// The shape as the file would list it.
    private func expectedShape(_ rows: Int, _ cols: Int, transposed: Bool) -> [Int] {
        switch store.format {
        case .gguf: return [cols, rows]
        case .safetensors: return transposed ? [cols, rows] : [rows, cols]
        }
    }
}
