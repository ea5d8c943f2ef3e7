import Foundation
import Testing
@testable import PruneFacts

/// The backward through the blocks above a layer, the final norm and the head, against central
/// finite differences of the forward (in float64 sums of float32 runs), on both fixtures.
@Suite struct BackwardTests {
    /// L(h) = Σ_p Σ_v c[p, v] · logits[p, v] with fixed random c, over positions of a sequence whose
    /// residual after block `layer` is h; returns L and ∂L/∂h at `position`.
    static func probe(_ net: FactNetwork, ids: [Int32], layer: Int, position: Int, direction: [Float], eps: Float)
        -> (analytic: Double, numeric: Double) {
        let d = net.config.hiddenSize, t = ids.count, vocab = net.config.vocabularySize
        let base = net.run(ids, through: layer).output
        var rng = SplitMix(seed: 7)
        _ = vocab
        let positions = Array(position..<t)
        let coeff = (0..<(positions.count * vocab)).map { _ in rng.nextFloat() }
        func loss(_ h: [Float]) -> (Double, [BlockActivations], (logits: [Float], normalized: [Float], rstd: [Float])) {
            let acts = net.run(residual: h, rows: t, from: layer + 1)
            let hd = net.head(acts.last?.output ?? h, positions: positions)
            var s = 0.0
            for i in 0..<coeff.count { s += Double(coeff[i]) * Double(hd.logits[i]) }
            return (s, acts, hd)
        }
        let (_, acts, hd) = loss(base)
        let dtop = net.headBackward(coeff, positions: positions, normalized: hd.normalized, rstd: hd.rstd, rows: t)
        let dh = net.backward(dtop, through: acts, from: layer + 1)
        var analytic = 0.0
        for j in 0..<d { analytic += Double(dh[position * d + j]) * Double(direction[j]) }
        var plus = base, minus = base
        for j in 0..<d { plus[position * d + j] += eps * direction[j]; minus[position * d + j] -= eps * direction[j] }
        let numeric = (loss(plus).0 - loss(minus).0) / (2 * Double(eps))
        return (analytic, numeric)
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"], [0, 1, 3])
    func gradientMatchesFiniteDifferences(model: String, layer: Int) throws {
        let net = try FactTest.network(model)
        let ids: [Int32] = [1, 57, 300, 912, 44, 1021, 7, 2000, 15, 640]
        var rng = SplitMix(seed: UInt64(layer + 1))
        for position in [2, 5] {
            let dir = (0..<net.config.hiddenSize).map { _ in rng.nextFloat() }
            let (a, n) = Self.probe(net, ids: ids, layer: layer, position: position, direction: dir, eps: 3e-2)
            #expect(abs(a - n) <= 2e-3 * max(abs(n), 0.1), "layer \(layer) position \(position): analytic \(a) vs numeric \(n)")
        }
    }
}

