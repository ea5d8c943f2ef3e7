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

    mutating func computeMemit(_ spec: FactEditSpec, _ h: FactHyperparameters) throws
        -> (factors: [LayerFactors], results: [RequestResult], record: [JSONNodeMember]) {
        throw FactError.badRequest(manifest: spec.manifest, line: spec.line, what: "\(spec.method.rawValue) is not available yet")
    }
}
