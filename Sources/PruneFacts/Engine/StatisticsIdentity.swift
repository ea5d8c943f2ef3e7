import Foundation
import PruneFormats

/// What key statistics at a layer depend on: the f32 weights that produce the keys (embeddings,
/// every block below the layer, and the layer's own attention, norms and up/gate projections; not
/// its down projection, whose input the keys are). Their SHA-256 identifies the statistics in the
/// cache and in sidecars, whatever file format the weights came in.
public enum StatisticsIdentity {
    public static func modelHash(_ w: NetworkWeights, layer: Int) -> String {
        let h = SHA256Hasher()
        func add(_ a: [Float]) { a.withUnsafeBytes { h.update($0) } }
        func add(_ l: DenseLinear) { add(l.weight); if let b = l.bias { add(b) } }
        func add(_ n: NormParameters) { add(n.weight); if let b = n.bias { add(b) } }
        h.update(Array("\(w.config.architecture.rawValue)|\(w.config.hiddenSize)|\(w.config.ffnSize)|\(layer)".utf8))
        add(w.tokenEmbedding)
        if let p = w.positionEmbedding { add(p) }
        for l in 0...layer {
            let b = w.blocks[l]
            add(b.attentionNorm); add(b.query); add(b.key); add(b.value); add(b.attentionOutput); add(b.mlpNorm)
            if let g = b.gate { add(g) }
            add(b.up)
            if l < layer { add(b.down) }
        }
        return h.finalizeHex()
    }

    /// The rest of what the keys depend on: the network's shape and definition (norm epsilon,
    /// activation, attention scale, rotary frequencies), which the weights' hash does not cover.
    public static func networkHash(_ c: NetworkConfig) -> String {
        var fields = "\(c.architecture.rawValue)|\(c.vocabularySize)|\(c.hiddenSize)|\(c.layerCount)|\(c.headCount)|"
            + "\(c.kvHeadCount)|\(c.headDim)|\(c.ffnSize)|\(c.contextLength)|\(c.normEpsilon.bitPattern)|"
            + "\(c.attentionScale.bitPattern)|\(c.scaleAttentionByInverseLayer)|\(c.activation.rawValue)"
        if let r = c.ropeInverseFrequencies { fields += "|" + r.map { String($0.bitPattern) }.joined(separator: ",") }
        return SHA256Hasher.hex(Array(fields.utf8))
    }
}
