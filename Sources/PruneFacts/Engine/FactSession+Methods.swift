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
        if let f = error as? FactLinearAlgebra.Failure, case .singular(let what, let info) = f {
            let detail = info != 0 ? "the linear system of the edit is singular (LAPACK \(what), info \(info)): the key statistics or the keys of the requests are degenerate"
                : "the edit cannot be computed: \(what)"
            return FactError.numerical(manifest: spec.manifest, line: spec.line, what: detail)
        }
        return error
    }

    /// ROME as its `execute_rome` does it: for each layer of `layers` in order, the rank-1 update of
    /// the request computed on the model with the request's updates of the earlier layers applied.
    mutating func computeRome(_ spec: FactEditSpec, _ h: FactHyperparameters) throws
        -> (factors: [LayerFactors], results: [RequestResult], record: [JSONNodeMember]) {
        var factors: [Int: FactLinearAlgebra.SymmetricFactor] = [:]
        var statRecords: [JSONNode] = []
        for layer in h.layers {
            if h.mom2Adjustment {
                let (f, rec) = try romeFactor(layer, h, spec)
                factors[layer] = f
                statRecords.append(rec)
            } else {
                statRecords.append(.object([JSONNodeMember(key: "layer", value: .int(layer)),
                                            JSONNodeMember(key: "source", value: .string("none (mom2_adjustment: false)"))]))
            }
        }
        let templates = try self.templates(.rome, h)
        try checkTemplateLengths(templates, spec, h)
        let flat = templates.flatMap { $0 }
        let d = model.config.hiddenSize, m = model.config.ffnSize
        var computed: [LayerFactors] = []
        var results: [RequestResult] = []
        for (index, r) in spec.requests.enumerated() {
            let before = try probability(r, model: model)
            var working = model
            var edits: [RomeEdit] = []
            for (i, layer) in h.layers.enumerated() {
                var rome = Rome(model: working, tokenizer: tokenizer, hparams: h, templates: flat, threads: job.threads)
                if let report = engine.steps {
                    let n = spec.requests.count
                    rome.onStep = { report(FactEngine.FactStep(method: "rome", request: index + 1, requests: n, layer: layer, step: $0, steps: $1, loss: $2)) }
                }
                engine.progress?("rome \(r.subject) → \(r.target)" + (h.layers.count > 1 ? " (layer \(layer))" : ""))
                let edit: RomeEdit
                do {
                    edit = try rome.compute(r, layer: layer) { k in
                        guard let f = factors[layer] else { return k }
                        return try f.solve(try Matrix(rows: k.count, cols: 1, values: k)).storage
                    }
                } catch { throw numerical(spec, error) }
                computed.append(LayerFactors(layer: layer, u: edit.lam, v: edit.u, rank: 1))
                edits.append(edit)
                if i + 1 < h.layers.count {
                    let term = try LowRankDelta(rows: d, cols: m, rank: 1, a: edit.lam, b: edit.u, tensor: downName(layer))
                    working = try working.adding(term, layer: layer, threads: job.threads, tensor: downName(layer))
                }
            }
            let first = edits[0]
            var extra: [JSONNodeMember] = [
                JSONNodeMember(key: "k_dot_u", value: .double(first.kDotU)),
                JSONNodeMember(key: "t0_norm", value: .double(first.initialNorm)),
                JSONNodeMember(key: "lookup_positions", value: .array(first.lookupPositions.map(JSONNode.int))),
            ]
            if edits.count > 1 {
                extra.append(JSONNodeMember(key: "per_layer", value: .array(edits.map { e in
                    .object([JSONNodeMember(key: "layer", value: .int(e.layer)),
                             JSONNodeMember(key: "k_dot_u", value: .double(e.kDotU)),
                             JSONNodeMember(key: "t0_norm", value: .double(e.initialNorm)),
                             JSONNodeMember(key: "steps", value: .int(e.trace.count)),
                             JSONNodeMember(key: "loss_first", value: .double(e.trace.first?.loss ?? .nan)),
                             JSONNodeMember(key: "loss_last", value: .double(e.trace.last?.loss ?? .nan))])
                })))
            }
            results.append(RequestResult(before: before, record: requestRecord(r, targetIDs: first.targetIDs, trace: first.trace,
                                                                                before: before, extra: extra)))
        }
        var record = commonRecord(spec, h, templates: templates, stats: statRecords)
        record.append(JSONNodeMember(key: "layers", value: .array(h.layers.map(JSONNode.int))))
        return (computed, results, record)
    }

    /// C at `layer` as ROME solves with it: factored once (the factor takes C's buffer: C is not held
    /// beside it) and kept while the following lines edit the layer; nil for C = I.
    mutating func romeFactor(_ layer: Int, _ h: FactHyperparameters, _ spec: FactEditSpec) throws
        -> (FactLinearAlgebra.SymmetricFactor?, JSONNode) {
        if let f = romeFactors[layer], let r = released[layer] {
            try requireInvertible(layer, spec)
            return (f, r.record)
        }
        let record = try moment(layer, hparams: h, line: spec.line).1
        try requireInvertible(layer, spec)
        guard var c = takeMoment(layer) else { return (nil, record) }
        let f: FactLinearAlgebra.SymmetricFactor
        do { f = try FactLinearAlgebra.SymmetricFactor(taking: &c, n: model.config.ffnSize) } catch { throw numerical(spec, error) }
        romeFactors[layer] = f
        return (f, record)
    }

    /// Refuses templates that, filled with a request's prompt, subject and target, do not fit in the
    /// model's context (the model has no positions past it), naming the key that gave them.
    func checkTemplateLengths(_ templates: [[String]], _ spec: FactEditSpec, _ h: FactHyperparameters) throws {
        let context = model.config.contextLength
        for r in spec.requests {
            let target = TokenPositions.targetIDs(filledPrompt: r.filledPrompt, target: r.target, tokenizer: tokenizer).count
            for (i, t) in templates.flatMap({ $0 }).enumerated() {
                let n = tokenizer.encode(FactRequest.fill(FactRequest.fill(t, with: r.prompt), with: r.subject)).count + target
                guard n > context else { continue }
                let key = h.contextTemplates != nil ? "context_templates" : "context_template_length_params"
                let given = key == "context_templates" ? "template \(i + 1) \(JSONText.quote(t.count > 40 ? String(t.prefix(40)) + "…" : t))"
                    : "a generated template (lengths " + h.contextTemplateLengthParams.map { "\($0)" }.joined(separator: ", ") + ")"
                throw FactError.unplaceable(manifest: spec.manifest, line: spec.line,
                                            what: "\(given) of hyperparameter \(key) (\(hyperparameterOrigin(key, spec))) with the prompt, subject and target is \(n) tokens, longer than the model's context of \(context) tokens")
            }
        }
    }

    /// Where a hyperparameter of a line comes from: the line's `"hparams"`, the `--hparams` file, or
    /// prune's defaults.
    func hyperparameterOrigin(_ key: String, _ spec: FactEditSpec) -> String {
        if let o = spec.hparams, o[key] != nil { return "\(spec.manifest):\(spec.line): hparams" }
        if let f = engine.hparamsFile, f.values[key] != nil { return f.name }
        return "the defaults"
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
        try checkTemplateLengths(templates, spec, h)
        var moments: [Int: Matrix?] = [:]
        var stats: [JSONNode] = []
        var projections: [JSONNode] = []
        var alpha: MemitBatch.Alpha?
        for layer in h.layers {
            let (c, rec) = try moment(layer, hparams: h, line: spec.line)
            if !isAlpha { try requireInvertible(layer, spec) }   // AlphaEdit uses C only for its null space
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
        let befores = try spec.requests.map { try probability($0, model: model) }
        let outcome: MemitBatch.Outcome
        do {
            let report = engine.progress
            var onStep: (@Sendable (Int, Int, Int, Double) -> Void)?
            if let steps = engine.steps {
                let method = spec.method.rawValue, n = spec.requests.count, layer = h.layers.last ?? 0
                onStep = { steps(FactEngine.FactStep(method: method, request: $0 + 1, requests: n, layer: layer, step: $1, steps: $2, loss: $3)) }
            }
            outcome = try MemitBatch.run(model: model, tokenizer: tokenizer, requests: spec.requests, hparams: h,
                                         templates: templates, moments: moments, alpha: alpha, threads: job.threads,
                                         progress: { report?("\(spec.method.rawValue) " + $0) }, onStep: onStep)
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
        let m = model.config.ffnSize
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
