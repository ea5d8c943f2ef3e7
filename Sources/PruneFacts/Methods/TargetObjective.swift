import PruneFormats
import PruneRuntime
import Foundation

/// The optimisation ROME's v* and MEMIT's z share: a vector δ added to the residual stream after
/// block `layer` at each prompt's lookup position, found by Adam on
/// NLL(target | rewriting prompts) + kl_factor · KL(p_δ ‖ p₀ on the KL prompt) + weight decay,
/// with δ clamped to clamp_norm_factor · ‖t₀‖. Everything below the layer is computed once.
public struct TargetObjective: Sendable {
    /// One prompt: its ids, the position δ is added at, and (rewriting prompts) the target ids
    /// scored at its last positions.
    public struct Prompt: Sendable {
        public var ids: [Int32]
        public var lookup: Int
        public init(ids: [Int32], lookup: Int) {
            self.ids = ids
            self.lookup = lookup
        }
    }

    public struct Step: Sendable, Equatable {
        public var loss: Double
        public var nll: Double
        public var kl: Double
        public var weightDecay: Double
        public var deltaNorm: Double
        /// exp(−NLL) averaged over the rewriting prompts (the repositories' "avg prob").
        public var probability: Double
    }

    public struct Result: Sendable {
        public var delta: [Float]
        /// The vector at the lookup position of the first prompt before the optimisation (ROME: the MLP
        /// output; MEMIT: the residual stream).
        public var initial: [Float]
        public var trace: [Step]
        /// ∂loss/∂δ at step 0.
        public var firstGradient: [Float]
    }

    public enum Site: Sendable { case mlpOutput, residual }

    public var model: FactModel
    public var layer: Int
    public var rewriting: [Prompt]
    public var kl: Prompt
    public var target: [Int32]
    public var hparams: FactHyperparameters
    public var site: Site
    public var threads: Int
    /// Called after each optimisation step with (step, steps, loss): a progress display; never required.
    public var onStep: (@Sendable (_ step: Int, _ steps: Int, _ loss: Double) -> Void)?

    public init(model: FactModel, layer: Int, rewriting: [Prompt], kl: Prompt, target: [Int32],
                hparams: FactHyperparameters, site: Site, threads: Int) {
        self.model = model
        self.layer = layer
        self.rewriting = rewriting
        self.kl = kl
        self.target = target
        self.hparams = hparams
        self.site = site
        self.threads = threads
    }

    public func optimize() throws -> Result {
        let d = model.config.hiddenSize
        let all = rewriting + [kl]
        let n = rewriting.count
        let tlen = target.count
        // Below the layer once: the residual stream after block `layer` for every prompt.
        let below = try PackedRun(model: model, sequences: all.map(\.ids), through: layer, threads: threads)
        let initial = below.row(site == .mlpOutput ? \.mlpOutput : \.output, of: 0, at: all[0].lookup)
        let t0norm = initial.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        var delta = [Float](repeating: 0, count: d)
        var adam = Adam(count: d, learningRate: hparams.vLR, betas: hparams.adamBetas, epsilon: hparams.adamEpsilon)
        var klInit: [Double]?
        var trace: [Step] = []
        var firstGradient: [Float]?
        let vocab = model.config.vocabularySize
        // The prompts run above the layer as one packed batch: every matrix product streams the
        // weights once for all of them, on `threads` threads (fixed blocks: the same bits for any count).
        let transformer = model.on(threads: threads)
        let segments = all.map { $0.ids.count }
        let layout = BatchLayout(lengths: segments)
        let starts = layout.sequences.map(\.firstRow)
        let rowCount = layout.rows
        var base = [Float](repeating: 0, count: rowCount * d)
        for i in all.indices {
            base.replaceSubrange((starts[i] * d)..<((starts[i] + segments[i]) * d), with: below.rows(\.output, of: i, count: segments[i]))
        }
        // Logits only where the loss reads them: the target positions of each rewriting prompt, the
        // lookup position of the KL prompt.
        let positionsOf: [[TokenPosition]] = all.indices.map { i in
            i == n ? [TokenPosition(sequence: i, position: all[i].lookup)]
                : (0..<tlen).map { TokenPosition(sequence: i, position: segments[i] - tlen + $0) }
        }
        let headPositions = positionsOf.flatMap { $0 }
        let headStart: [Int] = positionsOf.indices.map { i in positionsOf[..<i].reduce(0) { $0 + $1.count } }
        let above = Set((layer + 1)..<model.config.layerCount)
        // Where the MLP's output reaches the residual through a norm (Gemma's sandwich), δ added to
        // the output passes that norm: the lookup rows are m + norm(o + δ), and the gradient goes
        // back through it. Elsewhere o + δ adds to the residual as it is.
        let throughNorm = site == .mlpOutput && transformer.weights.layers[layer].mlpPostNorm != nil
        let lookupOutput = throughNorm ? all.indices.map { below.row(\.mlpOutput, of: $0, at: all[$0].lookup) } : []
        let lookupMiddle = throughNorm ? all.indices.map { below.row(\.middle, of: $0, at: all[$0].lookup) } : []
        for step in 0..<hparams.vNumGradSteps {
            let current = delta
            let p0 = klInit
            var h = base
            var joined: [(output: [Float], statistics: NormStatistics?)] = []
            if throughNorm {
                for i in all.indices {
                    var o = lookupOutput[i]
                    for j in 0..<d { o[j] += current[j] }
                    let c = transformer.mlpContribution(layer: layer, o, rows: 1)
                    for j in 0..<d { h[(starts[i] + all[i].lookup) * d + j] = lookupMiddle[i][j] + c.value[j] }
                    joined.append((o, c.statistics))
                }
            } else {
                for i in all.indices { for j in 0..<d { h[(starts[i] + all[i].lookup) * d + j] += current[j] } }
            }
            let forward = try transformer.forward(residual: FloatMatrix(rows: rowCount, cols: d, values: h), layout: layout,
                                                  fromBlock: layer + 1, logits: .positions(headPositions), trace: above)
            let logits = forward.logits.values
            // The loss of each prompt and d(loss)/d(its logits), in parallel; reduced in order below.
            let losses = ParallelMap.map(all.count, threads: threads) { i -> (loss: Double, prob: Double, logp: [Double]?, dlogits: [Float]) in
                let isKL = i == n
                let rowsHere = positionsOf[i].count
                let local = Array(logits[(headStart[i] * vocab)..<((headStart[i] + rowsHere) * vocab)])
                var dlogits = [Float](repeating: 0, count: local.count)
                var loss = 0.0, prob = 0.0
                var logp: [Double]?
                if isKL {
                    // log-softmax at the KL position; KL(current ‖ initial) = Σ q (log q − log p₀).
                    let lq = TargetObjective.logSoftmax(local, 0, vocab)
                    logp = lq
                    if let initialLogp = p0 {
                        var klv = 0.0
                        for v in 0..<vocab { klv += exp(lq[v]) * (lq[v] - initialLogp[v]) }
                        loss = klv
                        for v in 0..<vocab {
                            let q = exp(lq[v])
                            dlogits[v] = Float(hparams.klFactor * q * ((lq[v] - initialLogp[v]) - klv))
                        }
                    }
                } else {
                    var nll = 0.0
                    for (r, tok) in target.enumerated() {
                        let lp = TargetObjective.logSoftmax(local, r, vocab)
                        nll -= lp[Int(tok)]
                        let scale = 1 / Double(tlen * n)
                        for v in 0..<vocab { dlogits[r * vocab + v] = Float(exp(lp[v]) * scale) }
                        dlogits[r * vocab + Int(tok)] -= Float(scale)
                    }
                    loss = nll / Double(tlen)
                    prob = exp(-loss)
                }
                return (loss, prob, logp, dlogits)
            }
            var dlogits = [Float](repeating: 0, count: headPositions.count * vocab)
            for i in all.indices { dlogits.replaceSubrange((headStart[i] * vocab)..<((headStart[i] + positionsOf[i].count) * vocab), with: losses[i].dlogits) }
            let dtop = try transformer.headBackward(FloatMatrix(rows: headPositions.count, cols: vocab, values: dlogits), of: forward)
            let dh = try transformer.backward(dtop, blocks: (layer + 1)..<model.config.layerCount, traces: forward.traces,
                                              layout: layout).values
            let results = all.indices.map { i in
                let row = Array(dh[((starts[i] + all[i].lookup) * d)..<((starts[i] + all[i].lookup + 1) * d)])
                let grad = throughNorm
                    ? transformer.mlpContributionBackward(layer: layer, row, output: joined[i].output, rows: 1, statistics: joined[i].statistics)
                    : row
                return (loss: losses[i].loss, prob: losses[i].prob, logp: losses[i].logp, grad: grad)
            }
            if klInit == nil { klInit = results[n].logp }
            var nll = 0.0, prob = 0.0
            for i in 0..<n { nll += results[i].loss; prob += results[i].prob }
            nll /= Double(n)
            prob /= Double(n)
            let klv = hparams.klFactor * results[n].loss
            let dn = delta.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let wd = hparams.vWeightDecay * dn / (t0norm * t0norm)
            let loss = nll + klv + wd
            guard loss.isFinite else {
                throw FactLinearAlgebra.Failure.singular(routine: "the loss is not finite at step \(step)", info: step)
            }
            trace.append(Step(loss: loss, nll: nll, kl: klv, weightDecay: wd, deltaNorm: dn, probability: prob))
            onStep?(step + 1, hparams.vNumGradSteps, loss)
            if loss < hparams.earlyStopLoss || step == hparams.vNumGradSteps - 1 { break }
            var g = [Float](repeating: 0, count: d)
            for r in results { for j in 0..<d { g[j] += r.grad[j] } }
            if dn > 0 {
                let c = Float(hparams.vWeightDecay / (t0norm * t0norm) / dn)
                for j in 0..<d { g[j] += c * delta[j] }
            }
            if firstGradient == nil { firstGradient = g }
            adam.update(&delta, gradient: g)
            let maxNorm = hparams.clampNormFactor * t0norm
            let nn = delta.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            if nn > maxNorm {
                let s = Float(maxNorm / nn)
                for j in 0..<d { delta[j] *= s }
            }
        }
        return Result(delta: delta, initial: initial, trace: trace,
                      firstGradient: firstGradient ?? [Float](repeating: 0, count: d))
    }

    /// log-softmax of row `r` of `logits` (rows of `vocab`), in float64.
    static func logSoftmax(_ logits: [Float], _ r: Int, _ vocab: Int) -> [Double] {
        var mx = -Double.infinity
        for v in 0..<vocab { mx = max(mx, Double(logits[r * vocab + v])) }
        var z = 0.0
        for v in 0..<vocab { z += exp(Double(logits[r * vocab + v]) - mx) }
        let lz = mx + log(z)
        return (0..<vocab).map { Double(logits[r * vocab + $0]) - lz }
    }
}
