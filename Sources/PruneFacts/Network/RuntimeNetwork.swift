import PruneRuntime
import PruneTokenizers

/// The fact engine's f32 network from a model the runtime loaded (any format it reads: the weights
/// are decoded once, in the Hugging Face orientation).
public enum RuntimeNetwork {
    public static func weights(of model: LanguageModel) throws -> NetworkWeights {
        let c = model.config
        let w = model.weights
        let config = NetworkConfig(
            architecture: c.architecture == .gpt2 ? .gpt2 : .llama, vocabularySize: c.vocabularySize,
            hiddenSize: c.hiddenSize, layerCount: c.layerCount, headCount: c.headCount, kvHeadCount: c.kvHeadCount,
            headDim: c.headDim, ffnSize: c.ffnSize, contextLength: c.contextLength, normEpsilon: c.normEpsilon,
            ropeInverseFrequencies: c.rope?.inverseFrequencies(), attentionScale: c.attentionScale,
            scaleAttentionByInverseLayer: c.scaleAttentionByInverseLayer, activation: c.activation)
        func lin(_ role: MatrixRole, _ l: Int, bias: [Float]?) throws -> DenseLinear {
            let m = try w.values(role, layer: l)
            return DenseLinear(outputs: m.rows, inputs: m.cols, weight: m.values, bias: bias)
        }
        func norm(_ n: NormWeights) -> NormParameters { NormParameters(weight: n.weight, bias: n.bias) }
        var blocks: [BlockParameters] = []
        for l in 0..<c.layerCount {
            let lw = w.layers[l]
            let q: DenseLinear, k: DenseLinear, v: DenseLinear
            if lw.qkv != nil {
                let m = try w.values(.attentionQKV, layer: l)
                let qw = c.queryWidth, kw = c.kvWidth
                func part(_ from: Int, _ rows: Int) -> DenseLinear {
                    DenseLinear(outputs: rows, inputs: m.cols, weight: Array(m.values[(from * m.cols)..<((from + rows) * m.cols)]),
                                bias: lw.qkvBias.map { Array($0[from..<(from + rows)]) })
                }
                q = part(0, qw)
                k = part(qw, kw)
                v = part(qw + kw, kw)
            } else {
                q = try lin(.attentionQuery, l, bias: lw.queryBias)
                k = try lin(.attentionKey, l, bias: lw.keyBias)
                v = try lin(.attentionValue, l, bias: lw.valueBias)
            }
            blocks.append(BlockParameters(
                attentionNorm: norm(lw.attentionNorm), query: q, key: k, value: v,
                attentionOutput: try lin(.attentionOutput, l, bias: lw.attentionOutputBias),
                mlpNorm: norm(lw.mlpNorm),
                gate: lw.gate != nil ? try lin(.mlpGate, l, bias: lw.gateBias) : nil,
                up: try lin(.mlpUp, l, bias: lw.upBias),
                down: try lin(.mlpDown, l, bias: lw.downBias)))
        }
        let emb = w.tokenEmbedding.values()
        let head = w.output === w.tokenEmbedding ? emb : w.output.values()
        return NetworkWeights(config: config, tokenEmbedding: emb, positionEmbedding: w.positionEmbedding?.values(),
                              blocks: blocks, outputNorm: norm(w.outputNorm),
                              output: DenseLinear(outputs: c.vocabularySize, inputs: c.hiddenSize, weight: head))
    }
}

/// The runtime's tokenizer as the fact engine uses it (the model's own special-token handling).
public struct RuntimeTokenizer: FactTokenizer {
    public let tokenizer: Tokenizer
    public init(_ t: Tokenizer) { tokenizer = t }
    public func encode(_ text: String) -> [Int32] { tokenizer.encode(text) }
    public func decode(_ ids: [Int32]) -> String { tokenizer.decode(ids) }
}
