import PruneFormats
import Foundation
import PruneKit
import PruneRuntime

/// The pieces of MEMIT (Meng et al., 2023) and AlphaEdit (Fang et al., 2025) on the runtime's
/// transformer: z at the last layer of the range by `TargetObjective` on the residual stream, the keys
/// of a batch (mean over each template group, then over the groups), and the residual stream at
/// the subject of the bare prompts.
public struct Memit: Sendable {
    public var model: FactModel
    public var tokenizer: FactTokenizer
    public var hparams: FactHyperparameters
    /// Template groups, as MEMIT groups them ([["{}"], [generated …]]).
    public var templates: [[String]]
    public var klPrompt = "{} is a"
    public var threads: Int
    /// Called after each optimisation step with (step, steps, loss): a progress display; never required.
    public var onStep: (@Sendable (_ step: Int, _ steps: Int, _ loss: Double) -> Void)?

    public init(model: FactModel, tokenizer: FactTokenizer, hparams: FactHyperparameters, templates: [[String]], threads: Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.hparams = hparams
        self.templates = templates
        self.threads = threads
    }

    public struct Target: Sendable {
        /// z = t₀ + δ, the residual stream wanted at the lookup position after block `layer`.
        public var z: [Float]
        public var targetIDs: [Int32]
        public var trace: [TargetObjective.Step]
        public var firstGradient: [Float]
    }

    /// MEMIT's z for one request at `layer`.
    public func target(_ r: FactRequest, layer: Int) throws -> Target {
        let d = model.config.hiddenSize
        let contexts = templates.flatMap { $0 }.map { FactRequest.fill($0, with: r.prompt) }
        let positions = contexts.map { TokenPositions.lookup($0, subject: r.subject, strategy: hparams.factToken, tokenizer: tokenizer) }
        let tgt = TokenPositions.targetIDs(filledPrompt: r.filledPrompt, target: r.target, tokenizer: tokenizer)
        let prefix = tgt.count > 1 ? tokenizer.decode(Array(tgt.dropLast())) : ""
        let rewriting = zip(contexts, positions).map { c, p in
            TargetObjective.Prompt(ids: tokenizer.encode(FactRequest.fill(c, with: r.subject) + prefix), lookup: p)
        }
        let klPos = TokenPositions.lookup(klPrompt, subject: r.subject, strategy: hparams.factToken, tokenizer: tokenizer)
        let kl = TargetObjective.Prompt(ids: tokenizer.encode(FactRequest.fill(klPrompt, with: r.subject)), lookup: klPos)
        var objective = TargetObjective(model: model, layer: layer, rewriting: rewriting, kl: kl, target: tgt,
                                        hparams: hparams, site: .residual, threads: threads)
        objective.onStep = onStep
        let o = try objective.optimize()
        let z = (0..<d).map { o.initial[$0] + o.delta[$0] }
        return Target(z: z, targetIDs: tgt, trace: o.trace, firstGradient: o.firstGradient)
    }

    /// The keys of `requests` at `layer` as columns of an m × n matrix: for each request the mean
    /// over each template group of the key at the subject, then the mean over the groups.
    public func keys(_ requests: [FactRequest], layer: Int) throws -> Matrix {
        let m = model.config.ffnSize, n = requests.count
        let jobs: [(r: Int, g: Int, text: String)] = requests.indices.flatMap { r in
            templates.indices.flatMap { g in templates[g].map { (r, g, FactRequest.fill($0, with: requests[r].prompt)) } }
        }
        let prepared = ParallelMap.map(jobs.count, threads: threads) { [self] i -> (ids: [Int32], position: Int) in
            let j = jobs[i], subject = requests[j.r].subject
            return (tokenizer.encode(FactRequest.fill(j.text, with: subject)),
                    TokenPositions.lookup(j.text, subject: subject, strategy: hparams.factToken, tokenizer: tokenizer))
        }
        // Every template of every request in one packed run.
        let run = try PackedRun(model: model, sequences: prepared.map(\.ids), through: layer, threads: threads)
        let keys = jobs.indices.map { run.row(\.mlpKey, of: $0, at: prepared[$0].position) }
        var out = [Double](repeating: 0, count: m * n)
        for r in 0..<n {
            var total = [Double](repeating: 0, count: m)
            for g in templates.indices {
                var sum = [Double](repeating: 0, count: m)
                var count = 0
                for (i, j) in jobs.enumerated() where j.r == r && j.g == g {
                    for e in 0..<m { sum[e] += Double(keys[i][e]) }
                    count += 1
                }
                for e in 0..<m { total[e] += sum[e] / Double(count) }
            }
            for e in 0..<m { out[e * n + r] = total[e] / Double(templates.count) }
        }
        return try Matrix(rows: m, cols: n, values: out)
    }

    /// The residual stream after block `layer` at the subject of each bare prompt, d × n.
    public func residuals(_ requests: [FactRequest], layer: Int) throws -> Matrix {
        let d = model.config.hiddenSize, n = requests.count
        let prepared = ParallelMap.map(n, threads: threads) { [self] i -> (ids: [Int32], position: Int) in
            let r = requests[i]
            return (tokenizer.encode(r.filledPrompt),
                    TokenPositions.lookup(r.prompt, subject: r.subject, strategy: hparams.factToken, tokenizer: tokenizer))
        }
        let run = try PackedRun(model: model, sequences: prepared.map(\.ids), through: layer, threads: threads)
        let cols = (0..<n).map { run.row(\.output, of: $0, at: prepared[$0].position) }
        var out = [Double](repeating: 0, count: d * n)
        for r in 0..<n { for e in 0..<d { out[e * n + r] = Double(cols[r][e]) } }
        return try Matrix(rows: d, cols: n, values: out)
    }

    /// MEMIT's update of one layer: V = (λC + KKᵀ)⁻¹K (m × n), so that ΔW = R Vᵀ. λC + KKᵀ is formed
    /// in one m × m buffer and factored in place (C itself is only read).
    public static func memitRight(keys k: Matrix, moment c: Matrix?, lambda: Double) throws -> Matrix {
        var a = FactLinearAlgebra.regularizedGram(k, moment: c, lambda: lambda)
        return try FactLinearAlgebra.SymmetricFactor(taking: &a, n: k.rows).solve(k)
    }

    /// AlphaEdit's: V = (P(KKᵀ + Cₚ) + αI)⁻¹ P K (m × n), so that ΔW = R Vᵀ; Cₚ the keys of earlier edits.
    public static func alphaRight(keys k: Matrix, projector p: Matrix, previous cp: Matrix?, l2: Double) throws -> Matrix {
        let m = k.rows
        var s = Matrix.gemm(k, k, transposeB: true)
        if let cp { s = s + cp }
        let ps = Matrix.gemm(p, s)
        var a = [Double](repeating: 0, count: m * m)
        for i in 0..<m { for j in 0..<m { a[i * m + j] = ps[i, j] + (i == j ? l2 : 0) } }
        return try FactLinearAlgebra.solve(try Matrix(rows: m, cols: m, values: a), Matrix.gemm(p, k))
    }
}
