import Foundation
import PruneFormats
import PruneKit
import PruneRuntime

/// ROME (Meng et al., 2022) on the runtime's transformer: k̄ over the context templates, u = C⁻¹k̄ /
/// ‖C⁻¹k̄‖, v* by `TargetObjective` at the MLP output, Λ = (v* − o*)/(k*·u).
public struct Rome: Sendable {
    public var model: FactModel
    public var tokenizer: FactTokenizer
    public var hparams: FactHyperparameters
    /// The context templates, flat (each contains `{}`; "{}" itself is the bare prompt).
    public var templates: [String]
    public var klPrompt = "{} is a"
    public var threads: Int
    /// Called after each optimisation step with (step, steps, loss): a progress display; never required.
    public var onStep: (@Sendable (_ step: Int, _ steps: Int, _ loss: Double) -> Void)?

    public init(model: FactModel, tokenizer: FactTokenizer, hparams: FactHyperparameters, templates: [String], threads: Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.hparams = hparams
        self.templates = templates
        self.threads = threads
    }

    /// The key at `position` of `text`'s ids at `layer` (the input of the down projection).
    public func key(_ ids: [Int32], at position: Int, layer: Int) throws -> [Float] {
        try model.on(threads: threads).run([ids], through: layer).trace.mlpKey.row(position)
    }

    /// The mean key over `templates` (each already holding the request prompt) of the subject.
    func meanKey(contexts: [String], subject: String, layer: Int) throws -> (mean: [Float], positions: [Int]) {
        let m = model.config.ffnSize
        let positions = contexts.map { TokenPositions.lookup($0, subject: subject, strategy: hparams.factToken, tokenizer: tokenizer) }
        let ids = ParallelMap.map(contexts.count, threads: threads) { [self] i in tokenizer.encode(FactRequest.fill(contexts[i], with: subject)) }
        // The templates in one packed run.
        let run = try PackedRun(model: model, sequences: ids, through: layer, threads: threads)
        let keys = contexts.indices.map { run.row(\.mlpKey, of: $0, at: positions[$0]) }
        var mean = [Float](repeating: 0, count: m)
        for k in keys { for j in 0..<m { mean[j] += k[j] } }
        for j in 0..<m { mean[j] /= Float(keys.count) }
        return (mean, positions)
    }

    /// Computes one request's edit. `inverseSolve(k̄)` returns C⁻¹k̄ (or k̄ itself for C = I).
    public func compute(_ request: FactRequest, layer: Int, solve: ([Double]) throws -> [Double]) throws -> RomeEdit {
        let d = model.config.hiddenSize
        let contexts = templates.map { FactRequest.fill($0, with: request.prompt) }
        let (kbar, positions) = try meanKey(contexts: contexts, subject: request.subject, layer: layer)
        let left = try solve(kbar.map(Double.init))
        let ln = left.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard ln > 0, ln.isFinite else { throw FactLinearAlgebra.Failure.singular(routine: "C⁻¹k̄ is zero or not finite", info: 0) }
        let u = left.map { Float($0 / ln) }
        let target = TokenPositions.targetIDs(filledPrompt: request.filledPrompt, target: request.target, tokenizer: tokenizer)
        let prefix = target.count > 1 ? tokenizer.decode(Array(target.dropLast())) : ""
        let rewriting = zip(contexts, positions).map { c, p in
            TargetObjective.Prompt(ids: tokenizer.encode(FactRequest.fill(c, with: request.subject) + prefix), lookup: p)
        }
        let klPos = TokenPositions.lookup(klPrompt, subject: request.subject, strategy: hparams.factToken, tokenizer: tokenizer)
        let kl = TargetObjective.Prompt(ids: tokenizer.encode(FactRequest.fill(klPrompt, with: request.subject)), lookup: klPos)
        var objective = TargetObjective(model: model, layer: layer, rewriting: rewriting, kl: kl, target: target,
                                        hparams: hparams, site: .mlpOutput, threads: threads)
        objective.onStep = onStep
        let r = try objective.optimize()
        let starPos = TokenPositions.lookup(request.prompt, subject: request.subject, strategy: hparams.factToken, tokenizer: tokenizer)
        let kstar = try key(tokenizer.encode(request.filledPrompt), at: starPos, layer: layer)
        var kdu = 0.0
        for j in 0..<u.count { kdu += Double(kstar[j]) * Double(u[j]) }
        guard kdu != 0, kdu.isFinite else { throw FactLinearAlgebra.Failure.singular(routine: "k*·u is zero", info: 0) }
        let lam = (0..<d).map { Float(Double(r.delta[$0]) / kdu) }
        let t0 = r.initial.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        return RomeEdit(layer: layer, u: u, lam: lam, kbar: kbar, kstar: kstar, delta: r.delta, initialNorm: t0,
                        kDotU: kdu, targetIDs: target, lookupPositions: positions + [klPos], trace: r.trace,
                        firstGradient: r.firstGradient)
    }
}
