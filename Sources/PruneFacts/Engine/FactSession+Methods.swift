import Foundation
import PruneFormats
import PruneKit

extension FactSession {
    /// Computes one fact line on the current model state.
    mutating func compute(_ spec: FactEditSpec, hparams h: FactHyperparameters) throws
        -> (factors: [LayerFactors], results: [RequestResult], record: [JSONNodeMember]) {
        switch spec.method {
        case .rome: return try computeRome(spec, h)
        case .memit, .alphaedit: return try computeMemit(spec, h)
        }
    }

    func numerical(_ spec: FactEditSpec, _ error: Error) -> Error {
        if let f = error as? FactLinearAlgebra.Failure, case .singular(let what, _) = f {
            return FactError.numerical(manifest: spec.manifest, line: spec.line, what: what)
        }
        return error
    }

    mutating func computeRome(_ spec: FactEditSpec, _ h: FactHyperparameters) throws
        -> (factors: [LayerFactors], results: [RequestResult], record: [JSONNodeMember]) {
        let layer = h.layers[0]
        let (c, statRecord) = h.mom2Adjustment ? try moment(layer, hparams: h, line: spec.line)
            : (nil, JSONNode.object([JSONNodeMember(key: "layer", value: .int(layer)),
                                     JSONNodeMember(key: "source", value: .string("none (mom2_adjustment: false)"))]))
        let templates = try self.templates(.rome, h)
        let flat = templates.flatMap { $0 }
        var factors: [LayerFactors] = []
        var results: [RequestResult] = []
        for r in spec.requests {
            let before = probability(r, network: network)
            let rome = Rome(network: network, tokenizer: tokenizer, hparams: h, templates: flat, threads: job.threads)
            engine.progress?("rome \(r.subject) → \(r.target)")
            let edit: RomeEdit
            do {
                edit = try rome.compute(r, layer: layer) { k in
                    guard let c else { return k }
                    return try FactLinearAlgebra.solveSymmetric(c, try Matrix(rows: k.count, cols: 1, values: k)).storage
                }
            } catch { throw numerical(spec, error) }
            factors.append(LayerFactors(layer: layer, u: edit.lam, v: edit.u, rank: 1))
            results.append(RequestResult(before: before, record: requestRecord(r, targetIDs: edit.targetIDs, trace: edit.trace,
                                                                                before: before, extra: [
                JSONNodeMember(key: "k_dot_u", value: .double(edit.kDotU)),
                JSONNodeMember(key: "t0_norm", value: .double(edit.initialNorm)),
                JSONNodeMember(key: "lookup_positions", value: .array(edit.lookupPositions.map(JSONNode.int))),
            ])))
        }
        var record = commonRecord(spec, h, templates: templates, stats: [statRecord])
        record.append(JSONNodeMember(key: "layers", value: .array([.int(layer)])))
        return (factors, results, record)
    }

    func requestRecord(_ r: FactRequest, targetIDs: [Int32], trace: [TargetObjective.Step], before: Double,
                       extra: [JSONNodeMember]) -> [JSONNodeMember] {
        var m: [JSONNodeMember] = [
            JSONNodeMember(key: "prompt", value: .string(r.prompt)),
            JSONNodeMember(key: "subject", value: .string(r.subject)),
            JSONNodeMember(key: "target", value: .string(r.target)),
        ]
        if let c = r.caseID { m.append(JSONNodeMember(key: "case_id", value: .int(c))) }
        m += [
            JSONNodeMember(key: "target_ids", value: .array(targetIDs.map(JSONNode.int))),
            JSONNodeMember(key: "steps", value: .int(trace.count)),
            JSONNodeMember(key: "loss_first", value: .double(trace.first?.loss ?? .nan)),
            JSONNodeMember(key: "loss_last", value: .double(trace.last?.loss ?? .nan)),
            JSONNodeMember(key: "probability_before", value: .double(before)),
        ]
        return m + extra
    }

    /// MEMIT / AlphaEdit on a batch: z at the last layer of the range, then layer by layer
    /// ΔWₗ = Rₗ Vₗᵀ with the residual spread over the remaining layers; each layer's keys and residual
    /// are read on the model with the batch's earlier layers already updated.
    mutating func computeMemit(_ spec: FactEditSpec, _ h: FactHyperparameters) throws
        -> (factors: [LayerFactors], results: [RequestResult], record: [JSONNodeMember]) {
        let isAlpha = spec.method == .alphaedit
        let templates = try self.templates(spec.method, h)
        var moments: [Int: Matrix?] = [:]
        var stats: [JSONNode] = []
        var projections: [JSONNode] = []
        var alpha: MemitBatch.Alpha?
        for layer in h.layers {
            let (c, rec) = try moment(layer, hparams: h, line: spec.line)
            moments[layer] = c
            stats.append(rec)
        }
        if isAlpha {
            var ps: [Int: Matrix] = [:], prev: [Int: Matrix] = [:]
            for layer in h.layers {
                let p = try projector(layer, moment: moments[layer] ?? nil, threshold: h.nullspaceThreshold)
                ps[layer] = p.p
                if let old = previousKeys[layer] { prev[layer] = old.moment }
                projections.append(.object([JSONNodeMember(key: "layer", value: .int(layer)),
                                            JSONNodeMember(key: "null_space_dimension", value: .int(p.dimension)),
                                            JSONNodeMember(key: "previous_keys", value: .int(previousKeys[layer]?.count ?? 0))]))
            }
            alpha = MemitBatch.Alpha(projectors: ps, previous: prev)
        }
        let befores = spec.requests.map { probability($0, network: network) }
        let outcome: MemitBatch.Outcome
        do {
            let report = engine.progress
            outcome = try MemitBatch.run(network: network, tokenizer: tokenizer, requests: spec.requests, hparams: h,
                                         templates: templates, moments: moments, alpha: alpha, threads: job.threads,
                                         progress: { report?("\(spec.method.rawValue) " + $0) })
        } catch { throw numerical(spec, error) }
        if isAlpha {
            for (layer, kkt) in outcome.keyMoments {
                if let old = previousKeys[layer] {
                    previousKeys[layer] = (old.moment + kkt, old.count + spec.requests.count)
                } else {
                    previousKeys[layer] = (kkt, spec.requests.count)
                }
            }
        }
        let n = spec.requests.count
        let factors = outcome.updates.map { LayerFactors(layer: $0.layer, u: $0.residual, v: $0.right, rank: n) }
        let results = zip(spec.requests, zip(outcome.targets, befores)).map { r, tb in
            RequestResult(before: tb.1, record: requestRecord(r, targetIDs: tb.0.targetIDs, trace: tb.0.trace, before: tb.1, extra: []))
        }
        var record = commonRecord(spec, h, templates: templates, stats: stats)
        record.append(JSONNodeMember(key: "layers", value: .array(h.layers.map(JSONNode.int))))
        if isAlpha { record.append(JSONNodeMember(key: "projection", value: .array(projections))) }
        return (factors, results, record)
    }

    /// AlphaEdit's P at `layer` (once per run), from C; without statistics P = I (no projection).
    mutating func projector(_ layer: Int, moment c: Matrix?, threshold: Double) throws -> (p: Matrix, dimension: Int) {
        if let p = projectors[layer] { return p }
        let m = network.config.ffnSize
        let p: (p: Matrix, dimension: Int)
        if let c {
            p = try FactLinearAlgebra.nullSpaceProjector(c, threshold: threshold)
        } else {
            let w = "alphaedit without --stats-text: no null-space projection (P = I)"
            if !warnings.contains(w) { warnings.append(w) }
            p = (Matrix.identity(m), m)
        }
        projectors[layer] = p
        return p
    }
}
