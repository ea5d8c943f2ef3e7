import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// MEMIT and AlphaEdit against a torch run of our own (Tests/scripts/facts_memit_reference.py, written
/// from kmeng01/memit and jianghoucheng/AlphaEdit, run outside CI; its output is checked in under
/// Resources/memit-reference/): the same hyperparameters, templates and statistics; per request z and
/// the loss trace, per layer the keys, the residual and ΔW = R Vᵀ; AlphaEdit over two batches (the
/// second with the first's keys preserved). Plus the two properties the methods exist for.
@Suite struct MemitReferenceTests {
    static let models = ["gpt2-tiny", "llama-tiny"]

    struct Batch: @unchecked Sendable {
        var outcome: MemitBatch.Outcome
        var requests: [Int]
    }

    struct Setup: @unchecked Sendable {
        var ref: JSONNode
        var tensors: [String: [Float]]
        var hparams: FactHyperparameters
        var stats: [Int: KeyStatistics]
        var projectors: [Int: (p: Matrix, dimension: Int)]
        var memit: [Batch]
        var alpha: [Batch]
    }

    nonisolated(unsafe) static var setups: [String: Setup] = [:]
    static let lock = NSLock()

    static func resource(_ model: String, _ ext: String) throws -> String {
        let p = FactTest.packageRoot.appendingPathComponent("Tests/PruneKitTests/Resources/memit-reference/\(model).\(ext)").path
        guard FileManager.default.fileExists(atPath: p) else { throw FactTest.Failure("reference missing: \(p)") }
        return p
    }

    static func requests(_ ref: JSONNode) throws -> [FactRequest] {
        guard case .array(let rs)? = ref["requests"] else { throw FactTest.Failure("no requests") }
        return rs.map { FactRequest(prompt: $0["prompt"]!.stringValue!, subject: $0["subject"]!.stringValue!,
                                    target: $0["target"]!.stringValue!) }
    }

    static func batches(_ ref: JSONNode, _ key: String) -> [[Int]] {
        guard case .array(let bs)? = ref[key] else { return [] }
        return bs.map { FactTest.ints($0) }
    }

    /// Runs our MEMIT (one batch) and AlphaEdit (two batches, in sequence) with the reference's settings.
    static func setup(_ model: String) throws -> Setup {
        lock.lock(); defer { lock.unlock() }
        if let s = setups[model] { return s }
        let s = try make(network: try FactTest.network(model), tokenizer: try PythonTokenizer(model: try FactTest.fixture(model)),
                         ref: try FactTest.json(try resource(model, "json")),
                         tensors: try FactTest.tensors(try resource(model, "safetensors")),
                         text: try FactTest.fixture(model, "heldout.txt"))
        setups[model] = s
        return s
    }

    /// Our MEMIT (the reference's MEMIT batches, in sequence) and AlphaEdit (its AlphaEdit batches, in
    /// sequence, each preserving the earlier batches' keys) on `net`, with the statistics over `text` and
    /// the reference's hyperparameters and templates.
    static func make(network net: FactModel, tokenizer tok: any FactTokenizer, ref: JSONNode, tensors: [String: [Float]],
                     text path: String) throws -> Setup {
        let ctx = HyperparameterContext(architecture: net.config.architecture,
                                        layerCount: net.config.layerCount, contextLength: net.config.contextLength)
        var h = HyperparameterDefaults.defaults(.memit, context: ctx)
        h = try h.applying(HyperparameterSource(name: "reference", values: ref["hparams"]!), context: ctx)
        guard case .array(let groups)? = ref["context_templates"] else { throw FactTest.Failure("no templates") }
        let templates = groups.map { g -> [String] in
            guard case .array(let ts) = g else { return [] }
            return ts.compactMap(\.stringValue)
        }
        let text = try StatisticsText.load(path: path)
        var stats: [Int: KeyStatistics] = [:], moments: [Int: Matrix?] = [:]
        var projectors: [Int: (p: Matrix, dimension: Int)] = [:]
        for layer in h.layers {
            let s = try StatisticsComputer(model: net, tokenizer: tok, threads: 2)
                .compute(text: text, layer: layer, modelHash: "test", docTokens: h.statsDocTokens,
                         maxTokens: h.statsMaxTokens, maxDocuments: 100_000)
            stats[layer] = s
            moments[layer] = s.moment
            projectors[layer] = try FactLinearAlgebra.nullSpaceProjector(s.moment, threshold: h.nullspaceThreshold)
        }
        let reqs = try requests(ref)
        var memit: [Batch] = []
        var work = net
        for b in batches(ref, "memit_batches") {
            let o = try MemitBatch.run(model: work, tokenizer: tok, requests: b.map { reqs[$0] }, hparams: h,
                                       templates: templates, moments: moments, alpha: nil, threads: 2)
            memit.append(Batch(outcome: o, requests: b))
            work = o.model
        }
        var alpha: [Batch] = []
        work = net
        var previous: [Int: Matrix] = [:]
        for b in batches(ref, "alphaedit_batches") {
            let a = MemitBatch.Alpha(projectors: projectors.mapValues(\.p), previous: previous)
            let o = try MemitBatch.run(model: work, tokenizer: tok, requests: b.map { reqs[$0] }, hparams: h,
                                       templates: templates, moments: moments, alpha: a, threads: 2)
            alpha.append(Batch(outcome: o, requests: b))
            work = o.model
            for (layer, kkt) in o.keyMoments { previous[layer] = previous[layer].map { $0 + kkt } ?? kkt }
        }
        return Setup(ref: ref, tensors: tensors, hparams: h, stats: stats, projectors: projectors, memit: memit, alpha: alpha)
    }

    /// Column j of a row-major rows × cols matrix.
    static func column(_ a: [Float], cols: Int, _ j: Int) -> [Float] {
        stride(from: j, to: a.count, by: cols).map { a[$0] }
    }

    /// ΔW = R Vᵀ (d × m) from the factors (R d × n, V m × n, row-major).
    static func delta(_ r: [Float], _ v: [Float], n: Int) throws -> Matrix {
        let rm = try Matrix(rows: r.count / n, cols: n, floats: r), vm = try Matrix(rows: v.count / n, cols: n, floats: v)
        return Matrix.gemm(rm, vm, transposeB: true)
    }

    static func floats(_ m: Matrix) -> [Float] { m.storage.map { Float($0) } }

    /// The reference's statistics: token count, diag C, and the null space's dimension per layer.
    @Test(arguments: models)
    func statisticsMatch(model: String) throws {
        Self.checkStatistics(try Self.setup(model))
    }

    static func checkStatistics(_ s: Setup) {
        for layer in s.hparams.layers {
            let st = s.ref["stats"]?["\(layer)"]
            #expect(s.stats[layer]!.count == Int(FactTest.number(st?["tokens"]) ?? -1), "layer \(layer): token count")
            let m = s.stats[layer]!.moment
            let diag = (0..<m.rows).map { Float(m[$0, $0]) }
            let err = FactTest.relativeError(diag, s.tensors["C.diag.\(layer)"]!)
            #expect(err < 1e-4, "layer \(layer): diag C relative error \(err)")
            #expect(s.projectors[layer]!.dimension == Int(FactTest.number(st?["null_dim"]) ?? -1),
                    "layer \(layer): null-space dimension \(s.projectors[layer]!.dimension)")
        }
    }

    /// z, the loss trace, the keys, the residuals and ΔW of every batch of `method` against the reference.
    func check(_ model: String, method: String, batches: [Batch], s: Setup) throws {
        guard case .array(let refBatches)? = s.ref[method]?["batches"] else { throw FactTest.Failure("no \(method) batches") }
        #expect(refBatches.count == batches.count && !batches.isEmpty)
        let d = s.tensors["\(method).0.z"]!.count / batches[0].requests.count
        for (b, batch) in batches.enumerated() {
            let n = batch.requests.count
            guard case .array(let zs)? = refBatches[b]["z"] else { throw FactTest.Failure("no z") }
            let zRef = s.tensors["\(method).\(b).z"]!
            for j in 0..<n {
                let t = batch.outcome.targets[j], want = zs[j]
                #expect(t.targetIDs.map(Int.init) == FactTest.ints(want["target_ids"]), "\(method) batch \(b) request \(j): target ids")
                guard case .array(let steps)? = want["steps"] else { throw FactTest.Failure("no steps") }
                #expect(t.trace.count == steps.count, "\(method) batch \(b) request \(j): \(t.trace.count) steps, reference \(steps.count)")
                for k in 0..<min(5, steps.count, t.trace.count) {
                    let w = FactTest.number(steps[k]["loss"])!
                    #expect(abs(t.trace[k].loss - w) <= 1e-3 * max(1, abs(w)), "\(method) batch \(b) request \(j) step \(k): loss \(t.trace[k].loss) vs \(w)")
                }
                let g = FactTest.relativeError(t.firstGradient, s.tensors["\(method).\(b).grad0.\(j)"]!)
                #expect(g < 1e-3, "\(method) batch \(b) request \(j): gradient at step 0 relative error \(g)")
                let zErr = FactTest.relativeError(t.z, Self.column(zRef, cols: n, j))
                #expect(zErr < 1e-3, "\(method) batch \(b) request \(j): z relative error \(zErr)")
            }
            #expect(batch.outcome.updates.map(\.layer) == s.hparams.layers)
            for u in batch.outcome.updates {
                let L = u.layer
                let kErr = FactTest.relativeError(Self.floats(u.keys), s.tensors["\(method).\(b).K.\(L)"]!)
                #expect(kErr < 1e-4, "\(method) batch \(b) layer \(L): keys relative error \(kErr)")
                let rErr = FactTest.relativeError(u.residual, s.tensors["\(method).\(b).R.\(L)"]!)
                #expect(rErr < 1e-3, "\(method) batch \(b) layer \(L): residual relative error \(rErr)")
                let ours = Self.floats(try Self.delta(u.residual, u.right, n: n))
                let theirs = Self.floats(try Self.delta(s.tensors["\(method).\(b).R.\(L)"]!, s.tensors["\(method).\(b).V.\(L)"]!, n: n))
                let cos = FactTest.cosine(ours, theirs), ratio = FactTest.norm(ours) / FactTest.norm(theirs)
                #expect(cos >= 0.99, "\(method) batch \(b) layer \(L): ΔW cosine \(cos)")
                #expect(abs(ratio - 1) <= 0.02, "\(method) batch \(b) layer \(L): ‖ΔW‖ ratio \(ratio)")
                #expect(ours.count == d * (s.tensors["\(method).\(b).V.\(L)"]!.count / n))
            }
        }
    }

    @Test(arguments: models)
    func memitMatchesReference(model: String) throws {
        let s = try Self.setup(model)
        try check(model, method: "memit", batches: s.memit, s: s)
    }

    @Test(arguments: models)
    func alphaEditMatchesReference(model: String) throws {
        let s = try Self.setup(model)
        try check(model, method: "alphaedit", batches: s.alpha, s: s)
        Self.checkProjectedKeys(s)
    }

    /// P K (the projection of each AlphaEdit batch's keys) against the reference's.
    static func checkProjectedKeys(_ s: Setup) {
        for (b, batch) in s.alpha.enumerated() {
            for u in batch.outcome.updates {
                let pk = Self.floats(Matrix.gemm(s.projectors[u.layer]!.p, u.keys))
                let err = FactTest.relativeError(pk, s.tensors["alphaedit.\(b).PK.\(u.layer)"]!)
                #expect(err < 1e-3, "alphaedit batch \(b) layer \(u.layer): P K relative error \(err)")
            }
        }
    }

    /// MEMIT's update at the last layer of the range maps each key to its residual, up to the ridge
    /// λC: ‖ΔW K − R‖/‖R‖ is the reference's (small) value.
    @Test(arguments: models)
    func memitMapsKeysToTargets(model: String) throws {
        let s = try Self.setup(model)
        guard case .array(let refBatches)? = s.ref["memit"]?["batches"] else { throw FactTest.Failure("no memit batches") }
        for (b, batch) in s.memit.enumerated() {
            guard case .array(let layers)? = refBatches[b]["layers"] else { throw FactTest.Failure("no layers") }
            let u = batch.outcome.updates.last!, n = batch.requests.count
            let dw = try Self.delta(u.residual, u.right, n: n)
            let r = try Matrix(rows: u.residual.count / n, cols: n, floats: u.residual)
            let err = (Matrix.gemm(dw, u.keys) - r).frobeniusNorm / r.frobeniusNorm
            let want = FactTest.number(layers.last!["key_mapping_error"])!
            #expect(err <= 0.05, "memit batch \(b) layer \(u.layer): ‖ΔW K − R‖/‖R‖ = \(err)")
            #expect(abs(err - want) <= 0.01, "memit batch \(b) layer \(u.layer): key mapping error \(err), reference \(want)")
        }
    }

    /// AlphaEdit's update leaves every key in the preserved space (P k = 0: the eigenvectors of C
    /// above the threshold) unchanged: ‖ΔW k‖ ≈ 0, while it moves the batch's keys.
    @Test(arguments: models)
    func alphaEditLeavesPreservedKeys(model: String) throws {
        let s = try Self.setup(model)
        for (b, batch) in s.alpha.enumerated() {
            for u in batch.outcome.updates {
                let n = batch.requests.count
                let dw = try Self.delta(u.residual, u.right, n: n)
                let (values, vectors) = try s.stats[u.layer]!.moment.symmetricEigen()
                let keep = values.indices.filter { values[$0] >= s.hparams.nullspaceThreshold }
                #expect(keep.count == values.count - s.projectors[u.layer]!.dimension)
                var worst = 0.0
                for col in keep {
                    worst = max(worst, Matrix.gemm(dw, vectors.columns(col..<(col + 1))).frobeniusNorm)
                }
                #expect(worst <= 1e-6 * dw.frobeniusNorm, "alphaedit batch \(b) layer \(u.layer): ‖ΔW k‖ = \(worst) for a preserved key, ‖ΔW‖ = \(dw.frobeniusNorm)")
                let moved = Matrix.gemm(dw, u.keys).frobeniusNorm
                #expect(moved > 1e-2 * dw.frobeniusNorm, "alphaedit batch \(b) layer \(u.layer): the batch's keys are not moved")
            }
        }
    }
}
