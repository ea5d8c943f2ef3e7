import Foundation
import PruneFormats
import PruneKit
import PruneRuntime

/// Reads a Hugging Face folder (config.json + model.safetensors) of a GPT-2 or Llama-family model
/// into f32 `NetworkWeights`.
public enum SafetensorsNetworkLoader {
    public static func load(folder: String) throws -> NetworkWeights {
        let cfgPath = folder + "/config.json"
        guard let data = FileManager.default.contents(atPath: cfgPath) else {
            throw FactError.unsupportedModel(path: cfgPath, reason: "no such file")
        }
        let cfg: JSONNode
        do { cfg = try JSONNodeParser.parse([UInt8](data)) } catch {
            throw FactError.unsupportedModel(path: cfgPath, reason: "invalid JSON")
        }
        func int(_ k: String) -> Int? {
            if case .number(let t)? = cfg[k] { return Int(t) ?? Double(t).map { Int($0) } }
            return nil
        }
        func dbl(_ k: String) -> Double? {
            if case .number(let t)? = cfg[k] { return Double(t) }
            return nil
        }
        let type = cfg["model_type"]?.stringValue ?? ""
        let file = try SafetensorsFile(path: folder + "/model.safetensors")
        func tensor(_ name: String) throws -> [Float] {
            guard let info = file.info(named: name) else {
                throw FactError.unsupportedModel(path: folder + "/model.safetensors", reason: "missing tensor \(name)")
            }
            return try file.withData(for: name) { try TensorCodec.decode($0, as: info.type, count: info.elementCount) }
        }
        func transpose(_ a: [Float], rows: Int, cols: Int) -> [Float] {
            var t = [Float](repeating: 0, count: a.count)
            for i in 0..<rows { for j in 0..<cols { t[j * rows + i] = a[i * cols + j] } }
            return t
        }
        /// The MLP activation as the runtime reads config.json (one reading of `activation_function`).
        func activation() throws -> ActivationFunction {
            do { return try HFConfigReader.read(path: cfgPath).activation } catch {
                throw FactError.unsupportedModel(path: cfgPath, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
            }
        }
        switch type {
        case "gpt2":
            guard let d = int("n_embd"), let n = int("n_layer"), let h = int("n_head"), let v = int("vocab_size") else {
                throw FactError.unsupportedModel(path: cfgPath, reason: "missing n_embd, n_layer, n_head or vocab_size")
            }
            let ffn = int("n_inner") ?? 4 * d
            let ctx = int("n_positions") ?? int("n_ctx") ?? 1024
            let config = NetworkConfig(architecture: .gpt2, vocabularySize: v, hiddenSize: d, layerCount: n, headCount: h,
                                       kvHeadCount: h, headDim: d / h, ffnSize: ffn, contextLength: ctx,
                                       normEpsilon: Float(dbl("layer_norm_epsilon") ?? 1e-5), ropeInverseFrequencies: nil,
                                       scaleAttentionByInverseLayer: cfg["scale_attn_by_inverse_layer_idx"] == .bool(true),
                                       activation: try activation())
            var blocks: [BlockParameters] = []
            for i in 0..<n {
                let p = "transformer.h.\(i)."
                let qkv = transpose(try tensor(p + "attn.c_attn.weight"), rows: d, cols: 3 * d)   // [3d, d]
                let qkvb = try tensor(p + "attn.c_attn.bias")
                func part(_ j: Int) -> DenseLinear {
                    DenseLinear(outputs: d, inputs: d, weight: Array(qkv[(j * d * d)..<((j + 1) * d * d)]),
                                bias: Array(qkvb[(j * d)..<((j + 1) * d)]))
                }
                blocks.append(BlockParameters(
                    attentionNorm: NormParameters(weight: try tensor(p + "ln_1.weight"), bias: try tensor(p + "ln_1.bias")),
                    query: part(0), key: part(1), value: part(2),
                    attentionOutput: DenseLinear(outputs: d, inputs: d, weight: transpose(try tensor(p + "attn.c_proj.weight"), rows: d, cols: d),
                                                 bias: try tensor(p + "attn.c_proj.bias")),
                    mlpNorm: NormParameters(weight: try tensor(p + "ln_2.weight"), bias: try tensor(p + "ln_2.bias")),
                    gate: nil,
                    up: DenseLinear(outputs: ffn, inputs: d, weight: transpose(try tensor(p + "mlp.c_fc.weight"), rows: d, cols: ffn),
                                    bias: try tensor(p + "mlp.c_fc.bias")),
                    down: DenseLinear(outputs: d, inputs: ffn, weight: transpose(try tensor(p + "mlp.c_proj.weight"), rows: ffn, cols: d),
                                      bias: try tensor(p + "mlp.c_proj.bias"))))
            }
            let wte = try tensor("transformer.wte.weight")
            return NetworkWeights(config: config, tokenEmbedding: wte, positionEmbedding: try tensor("transformer.wpe.weight"),
                                  blocks: blocks,
                                  outputNorm: NormParameters(weight: try tensor("transformer.ln_f.weight"), bias: try tensor("transformer.ln_f.bias")),
                                  output: DenseLinear(outputs: v, inputs: d, weight: wte))
        case "llama":
            guard let d = int("hidden_size"), let n = int("num_hidden_layers"), let h = int("num_attention_heads"),
                  let v = int("vocab_size"), let ffn = int("intermediate_size") else {
                throw FactError.unsupportedModel(path: cfgPath, reason: "missing hidden_size, num_hidden_layers, num_attention_heads, vocab_size or intermediate_size")
            }
            let kv = int("num_key_value_heads") ?? h
            let hd = int("head_dim") ?? d / h
            let theta = dbl("rope_theta") ?? {
                if case .number(let t)? = cfg["rope_parameters"]?["rope_theta"] { return Double(t) }
                return nil
            }() ?? 10000
            let inv = (0..<(hd / 2)).map { i -> Float in 1 / powf(Float(theta), Float(2 * i) / Float(hd)) }
            let config = NetworkConfig(architecture: .llama, vocabularySize: v, hiddenSize: d, layerCount: n, headCount: h,
                                       kvHeadCount: kv, headDim: hd, ffnSize: ffn,
                                       contextLength: int("max_position_embeddings") ?? 2048,
                                       normEpsilon: Float(dbl("rms_norm_eps") ?? 1e-6), ropeInverseFrequencies: inv)
            var blocks: [BlockParameters] = []
            for i in 0..<n {
                let p = "model.layers.\(i)."
                func lin(_ name: String, _ o: Int, _ inp: Int) throws -> DenseLinear {
                    DenseLinear(outputs: o, inputs: inp, weight: try tensor(p + name + ".weight"))
                }
                blocks.append(BlockParameters(
                    attentionNorm: NormParameters(weight: try tensor(p + "input_layernorm.weight"), bias: nil),
                    query: try lin("self_attn.q_proj", h * hd, d), key: try lin("self_attn.k_proj", kv * hd, d),
                    value: try lin("self_attn.v_proj", kv * hd, d), attentionOutput: try lin("self_attn.o_proj", d, h * hd),
                    mlpNorm: NormParameters(weight: try tensor(p + "post_attention_layernorm.weight"), bias: nil),
                    gate: try lin("mlp.gate_proj", ffn, d), up: try lin("mlp.up_proj", ffn, d), down: try lin("mlp.down_proj", d, ffn)))
            }
            let emb = try tensor("model.embed_tokens.weight")
            let head = file.info(named: "lm_head.weight") != nil ? try tensor("lm_head.weight") : emb
            return NetworkWeights(config: config, tokenEmbedding: emb, positionEmbedding: nil, blocks: blocks,
                                  outputNorm: NormParameters(weight: try tensor("model.norm.weight"), bias: nil),
                                  output: DenseLinear(outputs: v, inputs: d, weight: head))
        default:
            throw FactError.unsupportedModel(path: cfgPath, reason: "unknown architecture \"\(type)\"")
        }
    }
}
