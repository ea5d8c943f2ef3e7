import Foundation
import Testing
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// MEMIT and AlphaEdit against our own torch reference (Tests/scripts/facts_memit_reference.py, run
/// outside CI; values in Resources/facts/memit-reference.*): two batches of two requests over layers
/// 0–1, z, keys, residuals and each layer's ΔW; MEMIT maps the keys to their targets; AlphaEdit's
/// update leaves keys in the preserved null space unchanged.
@Suite struct MemitReferenceTests {
    static let resources = FactTest.packageRoot.path + "/Tests/PruneKitTests/Resources/facts"

    struct Setup: @unchecked Sendable {
        var net: FactNetwork
        var tokenizer: PythonTokenizer
        var meta: JSONNode
        var ref: [String: [Float]]
        var moments: [Int: Matrix]
        var hparams: FactHyperparameters
        var groups: [[String]]
        var requests: [FactRequest]
    }

    nonisolated(unsafe) static var setups: [String: Setup] = [:]
    static let lock = NSLock()

    static func setup(_ model: String) throws -> Setup {
        lock.lock(); defer { lock.unlock() }
        if let s = setups[model] { return s }
        let all = try FactTest.json(resources + "/memit-reference.json")
        guard let meta = all[model] else { throw FactTest.Failure("no reference for \(model)") }
        let ref = try FactTest.tensors(resources + "/memit-reference.safetensors")
        let net = try FactTest.network(model)
        let tok = try PythonTokenizer(model: try FactTest.fixture(model))
        let layers = FactTest.ints(meta["layers"])
        let text = try StatisticsText.load(path: try FactTest.fixture(model, "heldout.txt"))
        var moments: [Int: Matrix] = [:]
        for l in layers {
            moments[l] = StatisticsComputer(network: net, tokenizer: tok, threads: 2)
                .compute(text: text, layer: l, modelHash: "test", docTokens: 128, maxTokens: 20000, maxDocuments: 100_000).moment
        }
        let ctx = HyperparameterContext(architecture: net.config.architecture == .gpt2 ? .gpt2 : .llama,
                                        layerCount: net.config.layerCount, contextLength: net.config.contextLength)
        var h = HyperparameterDefaults.defaults(.memit, context: ctx)
        h.layers = layers
        h.vNumGradSteps = Int(FactTest.number(meta["steps"])!)
        h.vLR = FactTest.number(meta["lr"])!
        h.clampNormFactor = FactTest.number(meta["clamp"])!
        h.klFactor = FactTest.number(meta["kl"])!
        h.vWeightDecay = FactTest.number(meta["wd"])!
        h.mom2UpdateWeight = FactTest.number(meta["lambda"])!
        h.nullspaceThreshold = FactTest.number(meta["threshold"])!
        h.l2 = FactTest.number(meta["L2"])!
        guard case .array(let gs)? = meta["groups"], case .array(let rs)? = meta["requests"] else { throw FactTest.Failure("bad reference") }
        let groups = gs.map { g -> [String] in if case .array(let a) = g { return a.compactMap(\.stringValue) }; return [] }
        let requests = rs.map { FactRequest(prompt: $0["prompt"]!.stringValue!, subject: $0["subject"]!.stringValue!, target: $0["target"]!.stringValue!) }
        let s = Setup(net: net, tokenizer: tok, meta: meta, ref: ref, moments: moments, hparams: h, groups: groups, requests: requests)
        setups[model] = s
        return s
    }

    /// Runs both batches of a method; returns each batch's outcome.
    static func batches(_ s: Setup, alpha isAlpha: Bool) throws -> [MemitBatch.Outcome] {
        var net = s.net
        var previous: [Int: Matrix] = [:]
        var projectors: [Int: Matrix] = [:]
        for (l, c) in s.moments { projectors[l] = try FactLinearAlgebra.nullSpaceProjector(c, threshold: s.hparams.nullspaceThreshold).p }
        var out: [MemitBatch.Outcome] = []
        for batch in [[0, 1], [2, 3]] {
            let o = try MemitBatch.run(network: net, tokenizer: s.tokenizer, requests: batch.map { s.requests[$0] },
                                       hparams: s.hparams, templates: s.groups, moments: s.moments.mapValues { Optional($0) },
                                       alpha: isAlpha ? MemitBatch.Alpha(projectors: projectors, previous: previous) : nil,
                                       threads: 2)
            for (l, kkt) in o.keyMoments { previous[l] = previous[l].map { $0 + kkt } ?? kkt }
            net = o.network
            out.append(o)
        }
        return out
    }

    static func dense(_ u: LowRankUpdate) -> [Float] {
        var out = [Float](repeating: 0, count: u.rows * u.cols)
        for i in 0..<u.rows { for j in 0..<u.cols {
            var s = 0.0
            for r in 0..<u.rank { s += Double(u.a[i * u.rank + r]) * Double(u.b[j * u.rank + r]) }
            out[i * u.cols + j] = Float(s)
        } }
        return out
    }

    struct LowRankUpdate { var rows: Int; var cols: Int; var rank: Int; var a: [Float]; var b: [Float] }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"], ["memit", "alphaedit"])
    func matchesTorchReference(model: String, method: String) throws {
        let s = try Self.setup(model)
        let outs = try Self.batches(s, alpha: method == "alphaedit")
        let d = s.net.config.hiddenSize, m = s.net.config.ffnSize
        for (b, o) in outs.enumerated() {
            let p = "\(model).\(method).\(b)."
            let z = o.targets.count
            var zs = [Float](repeating: 0, count: d * z)
            for (j, t) in o.targets.enumerated() { for e in 0..<d { zs[e * z + j] = t.z[e] } }
            let zErr = FactTest.relativeError(zs, s.ref[p + "z"]!)
            #expect(zErr < 2e-3, "\(p)z relative error \(zErr)")
            for u in o.updates {
                let kErr = FactTest.relativeError(u.keys.storage.map(Float.init), s.ref[p + "K.\(u.layer)"]!)
                #expect(kErr < 1e-3, "\(p)K.\(u.layer) relative error \(kErr)")
                let delta = Self.dense(LowRankUpdate(rows: d, cols: m, rank: z, a: u.residual, b: u.right))
                let want = s.ref[p + "delta.\(u.layer)"]!
                let cos = FactTest.cosine(delta, want)
                let ratio = FactTest.norm(delta) / FactTest.norm(want)
                #expect(cos >= 0.99, "\(p)delta.\(u.layer) cosine \(cos)")
                #expect(abs(ratio - 1) <= 0.02, "\(p)delta.\(u.layer) norm ratio \(ratio)")
            }
        }
    }

    /// With λ → 0 MEMIT's single-layer update maps each key exactly to its residual: ΔW K = R.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func memitMapsKeysToTargets(model: String) throws {
        let s = try Self.setup(model)
        var rng = SplitMix(seed: 3)
        let m = s.net.config.ffnSize, n = 3
        let k = try Matrix(rows: m, cols: n, values: (0..<(m * n)).map { _ in Double(rng.nextFloat()) })
        let c = s.moments[FactTest.ints(s.meta["layers"]).last!]!
        let v = try Memit.memitRight(keys: k, moment: c, lambda: 1e-6)
        // ΔW K = R Vᵀ K, so Vᵀ K must be the identity.
        let vtk = Matrix.gemm(v, transposeA: true, k)
        for i in 0..<n { for j in 0..<n { #expect(abs(vtk[i, j] - (i == j ? 1 : 0)) < 1e-4, "VᵀK[\(i),\(j)] = \(vtk[i, j])") } }
    }

    /// AlphaEdit's update is zero on keys in the preserved null space: ‖ΔW k‖ ≈ 0 for k = P-orthogonal
    /// directions spanned by C's large eigenvectors.
    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func alphaEditLeavesPreservedKeys(model: String) throws {
        let s = try Self.setup(model)
        let outs = try Self.batches(s, alpha: true)
        let d = s.net.config.hiddenSize, m = s.net.config.ffnSize
        for u in outs[0].updates {
            let c = s.moments[u.layer]!
            let (values, vectors) = try c.symmetricEigen()
            // The eigenvector of C's largest eigenvalue: a key direction the text uses the most.
            let k = (0..<m).map { vectors[$0, 0] }
            #expect(values[0] > s.hparams.nullspaceThreshold)
            let delta = Self.dense(LowRankUpdate(rows: d, cols: m, rank: 2, a: u.residual, b: u.right))
            var dk = 0.0, full = 0.0
            for i in 0..<d {
                var sum = 0.0
                for j in 0..<m { sum += Double(delta[i * m + j]) * k[j] }
                dk += sum * sum
            }
            for x in delta { full += Double(x) * Double(x) }
            #expect(dk.squareRoot() <= 1e-4 * full.squareRoot(), "layer \(u.layer): ‖ΔW k‖ \(dk.squareRoot()) vs ‖ΔW‖ \(full.squareRoot())")
        }
    }
}
