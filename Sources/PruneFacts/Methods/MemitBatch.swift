import PruneFormats
import Foundation
import PruneKit

/// One MEMIT or AlphaEdit batch: z of every request at the last layer of the range, then layer by
/// layer ΔWₗ = Rₗ Vₗᵀ (Rₗ the residual spread over the remaining layers, Vₗ from `Memit.memitRight` or
/// `Memit.alphaRight`), each layer's keys and residuals read on the model with the batch's earlier
/// layers updated. AlphaEdit's preserved keys grow by the batch's keys on the edited model.
public struct MemitBatch: Sendable {
    public struct LayerUpdate: Sendable {
        public var layer: Int
        /// R, d × n (row-major).
        public var residual: [Float]
        /// V, m × n (row-major); ΔW = R Vᵀ.
        public var right: [Float]
        public var keys: Matrix
    }

    public struct Outcome: Sendable {
        public var targets: [Memit.Target]
        public var updates: [LayerUpdate]
        /// The model with the batch's updates added (raw).
        public var model: FactModel
        /// AlphaEdit: Σ k kᵀ of this batch's keys per layer, on the edited model.
        public var keyMoments: [Int: Matrix]
    }

    /// AlphaEdit's inputs: the projector per layer and the preserved keys' Σ k kᵀ so far.
    public struct Alpha: Sendable {
        public var projectors: [Int: Matrix]
        public var previous: [Int: Matrix]
        public init(projectors: [Int: Matrix], previous: [Int: Matrix]) {
            self.projectors = projectors
            self.previous = previous
        }
    }

    public static func run(model start: FactModel, tokenizer: FactTokenizer, requests: [FactRequest],
                           hparams h: FactHyperparameters, templates: [[String]], moments: [Int: Matrix?],
                           alpha: Alpha?, threads: Int, progress: ((String) -> Void)? = nil,
                           onStep: (@Sendable (_ request: Int, _ step: Int, _ steps: Int, _ loss: Double) -> Void)? = nil) throws -> Outcome {
        let zLayer = h.layers.last!
        let d = start.config.hiddenSize, m = start.config.ffnSize, n = requests.count
        var memit = Memit(model: start, tokenizer: tokenizer, hparams: h, templates: templates, threads: threads)
        // The requests' z are independent: rounds of `threads` requests, one thread each (the same
        // bits as one request on all the threads).
        var targets: [Memit.Target] = []
        var zs = [Double](repeating: 0, count: d * n)
        var single = memit
        single.threads = 1
        let each = single
        var r0 = 0
        while r0 < n {
            let round = Array(requests[r0..<min(n, r0 + max(1, threads))])
            for r in round { progress?("z for \(r.subject) → \(r.target)") }
            let first = r0
            let got = try ParallelMap.map(round.count, threads: threads) { i in
                var one = each
                if let onStep { one.onStep = { onStep(first + i, $0, $1, $2) } }
                return try one.target(round[i], layer: zLayer)
            }
            for (i, t) in got.enumerated() {
                for e in 0..<d { zs[e * n + r0 + i] = Double(t.z[e]) }
                targets.append(t)
            }
            r0 += round.count
        }
        var work = start
        var updates: [LayerUpdate] = []
        for (i, layer) in h.layers.enumerated() {
            memit.model = work
            let k = try memit.keys(requests, layer: layer)
            let cur = try memit.residuals(requests, layer: zLayer)
            let share = 1 / Double(h.layers.count - i)
            var resid = [Double](repeating: 0, count: d * n)
            for e in 0..<(d * n) { resid[e] = (zs[e] - cur.storage[e]) * share }
            let v: Matrix
            if let alpha {
                v = try Memit.alphaRight(keys: k, projector: alpha.projectors[layer] ?? Matrix.identity(m),
                                         previous: alpha.previous[layer], l2: h.l2)
            } else {
                v = try Memit.memitRight(keys: k, moment: moments[layer] ?? nil, lambda: h.mom2UpdateWeight)
            }
            let u = resid.map { Float($0) }, vv = v.storage.map { Float($0) }
            updates.append(LayerUpdate(layer: layer, residual: u, right: vv, keys: k))
            var w = try work.down(layer)
            try LowRankDelta(rows: d, cols: m, rank: n, a: u, b: vv).factored().add(to: &w, threads: threads)
            work = try work.settingDown(layer, w)
        }
        var moments: [Int: Matrix] = [:]
        if alpha != nil {
            memit.model = work
            for layer in h.layers {
                let k = try memit.keys(requests, layer: layer)
                moments[layer] = Matrix.gemm(k, k, transposeB: true)
            }
        }
        return Outcome(targets: targets, updates: updates, model: work, keyMoments: moments)
    }
}
