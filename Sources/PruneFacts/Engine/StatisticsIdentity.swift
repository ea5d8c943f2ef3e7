import Foundation
import PruneFormats
import PruneRuntime

/// What key statistics at a layer depend on: the f32 weights that produce the keys (embeddings,
/// every block below the layer, and the layer's own attention, norms and up/gate projections; not
/// its down projection, whose input the keys are). Their SHA-256 identifies the statistics in the
/// cache and in sidecars, whatever file format the weights came in.
public enum StatisticsIdentity {
    /// The weights' hash: matrices in their logical orientation ([output, input], rows in the
    /// Hugging Face order), each followed by its bias; a fused q/k/v matrix hashed as its q, k and v
    /// parts (each with its part of the bias), so that the values do not depend on the file's layout.
    public static func modelHash(_ model: FactModel, layer: Int) throws -> String {
        let c = model.config, w = model.transformer.weights
        let h = SHA256Hasher()
        func add(_ a: [Float]) { a.withUnsafeBytes { h.update($0) } }
        func add(_ a: ArraySlice<Float>) { a.withUnsafeBytes { h.update($0) } }
        func add(_ role: MatrixRole, _ l: Int, bias: [Float]?) throws { add(try w.values(role, layer: l).values); if let b = bias { add(b) } }
        func add(_ n: NormWeights) { add(n.weight); if let b = n.bias { add(b) } }
        h.update(Array("\(c.architecture.rawValue)|\(c.hiddenSize)|\(c.ffnSize)|\(layer)".utf8))
        add(w.tokenEmbedding.values())
        if let p = w.positionEmbedding { add(p.values()) }
        for l in 0...layer {
            let b = w.layers[l]
            add(b.attentionNorm)
            if b.qkv != nil {
                let m = try w.values(.attentionQKV, layer: l)
                var from = 0
                for rows in [c.queryWidth, c.kvWidth, c.kvWidth] {
                    add(m.values[(from * m.cols)..<((from + rows) * m.cols)])
                    if let bias = b.qkvBias { add(bias[from..<(from + rows)]) }
                    from += rows
                }
            } else {
                try add(.attentionQuery, l, bias: b.queryBias)
                try add(.attentionKey, l, bias: b.keyBias)
                try add(.attentionValue, l, bias: b.valueBias)
            }
            try add(.attentionOutput, l, bias: b.attentionOutputBias)
            add(b.mlpNorm)
            if b.gate != nil { try add(.mlpGate, l, bias: b.gateBias) }
            try add(.mlpUp, l, bias: b.upBias)
            if l < layer { try add(.mlpDown, l, bias: b.downBias) }
        }
        return h.finalizeHex()
    }

    /// The rest of what the keys depend on: the network's shape and definition (norm epsilon,
    /// activation, attention scale, rotary frequencies), which the weights' hash does not cover.
    public static func networkHash(_ c: ModelConfig) -> String {
        var fields = "\(c.architecture.rawValue)|\(c.vocabularySize)|\(c.hiddenSize)|\(c.layerCount)|\(c.headCount)|"
            + "\(c.kvHeadCount)|\(c.headDim)|\(c.ffnSize)|\(c.contextLength)|\(c.normEpsilon.bitPattern)|"
            + "\(c.attentionScale.bitPattern)|\(c.scaleAttentionByInverseLayer)|\(c.activation.rawValue)"
        if let r = c.rope?.inverseFrequencies() { fields += "|" + r.map { String($0.bitPattern) }.joined(separator: ",") }
        return SHA256Hasher.hex(Array(fields.utf8))
    }
}
