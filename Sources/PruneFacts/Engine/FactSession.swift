import Foundation
import PruneFormats
import PruneKit
import PruneRuntime
import PruneTokenizers

/// One prune-apply run of the fact engine: the model, its statistics and templates, and the state
/// of the edited matrices as the manifest's fact lines are computed one after another.
struct FactSession {
    let engine: FactEngine
    let job: FactJob
    let tokenizer: FactTokenizer
    /// The model as the edits so far left it (the runtime's weights, edited down projections replaced).
    var model: FactModel
    /// The model as it was read.
    let base: FactModel
    /// The loaded model (its transformer is `base`'s): context templates are generated on it.
    let loaded: LanguageModel
    let context: HyperparameterContext
    var warnings: [String] = []
    /// Statistics by layer (computed or read on the input model), held only for the layers of the
    /// line being computed (`holdStatistics`).
    var statistics: [Int: (moment: Matrix?, record: JSONNode)] = [:]
    /// The records of statistics released after their line (C read again when a later line needs it).
    var released: [Int: (record: JSONNode, hparams: FactHyperparameters)] = [:]
    /// ROME's factor of C by layer (in place of C), kept while the lines edit the layer.
    var romeFactors: [Int: FactLinearAlgebra.SymmetricFactor] = [:]
    /// The hyperparameters each layer's statistics were first read with (a reread uses them).
    var statisticsHparams: [Int: FactHyperparameters] = [:]
    var templateCache: [String: [[String]]] = [:]
    /// Per edited layer: σ_max(W₀) and the raw terms in edit order (W₀ itself is read again from
    /// `base` when needed: no f32 copy is held between edits).
    var edited: [Int: (sigmaMax: Double, terms: [LowRankDelta])] = [:]
    var text: StatisticsText?
    /// `TokenizerLoader.identity` of the model's tokenizer (a key of cached statistics), read once.
    var tokenizerIdentity: String?
    /// Per layer with statistics: the spectrum of Σ k kᵀ, its token count and the file it came from.
    var spectra: [Int: (spectrum: KeyStatistics.Spectrum, count: Int, path: String)] = [:]
    /// AlphaEdit: the null-space projector by layer, and Σ k kᵀ of the keys edited so far.
    var projectors: [Int: (p: Matrix, dimension: Int)] = [:]
    var previousKeys: [Int: (moment: Matrix, count: Int)] = [:]
    /// `--continue`: the base rebuilt from the edited model and the sidecar (kept while the model is used).
    let continuedBase: ContinuedBase?

    init(engine: FactEngine, job: FactJob) throws {
        self.engine = engine
        self.job = job
        let firstLine = job.manifest.edits.first { if case .fact = $0.kind { return true }; return false }?.line ?? 0
        let path = job.modelPath
        // --continue: the new facts are computed against the chain's W₀, not on the edited file.
        if let old = job.continued, let oldPath = job.continuedPath, old.edits.contains(where: { $0.facts != nil }) {
            continuedBase = try ContinuedBase(editedModel: path, sidecar: oldPath, format: old.model.format, threads: job.threads)
        } else {
            continuedBase = nil
        }
        let model: LanguageModel
        do {
            // The weights stay as stored (mapped): only the edited matrices are held in f32.
            model = try LanguageModel.load(continuedBase?.path ?? path, options: LoadOptions(threads: job.threads))
        } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            throw FactError.unsupportedModel(path: path, reason: "cannot run the model for the fact lines (\(job.manifest.path):\(firstLine)): " + (continuedBase?.naming(message) ?? message))
        }
        do {
            tokenizer = RuntimeTokenizer(try TokenizerLoader.load(path: path))
        } catch {
            throw FactError.unplaceable(manifest: job.manifest.path, line: firstLine,
                                        what: "the model has no usable tokenizer: " + ((error as? LocalizedError)?.errorDescription ?? "\(error)"))
        }
        loaded = model
        self.model = FactModel(model)
        base = self.model
        context = HyperparameterContext(architecture: model.config.architecture,
                                        layerCount: model.config.layerCount, contextLength: model.config.contextLength)
        if let f = engine.hparamsFile {
            let ignored = f.ignoredKeys
            if !ignored.isEmpty { warnings.append("\(f.name): ignored (not used on the CPU): " + ignored.joined(separator: ", ")) }
        }
        if continuedBase != nil, let old = job.continued { try seedChain(old) }
    }

    /// The HF name of layer `l`'s edited matrix (the down projection), from the family's table.
    func downName(_ l: Int) -> String {
        let spec = model.config.architecture.spec
        return (spec.hfModule(role: spec.editedRole, layer: "\(l)") ?? "blk.\(l).\(spec.editedRole)") + ".weight"
    }

    /// Hugging Face stores the edited matrix transposed ([in, out]: GPT-2's Conv1D).
    var editedIsTransposed: Bool {
        let spec = model.config.architecture.spec
        return spec.transposedInHF.contains(spec.editedRole)
    }

    mutating func run() throws -> FactOutcome {
        var edits: [Int: ResolvedEdit] = [:]
        var records: [Int: [UInt8]] = [:]
        var summaries: [String] = []
        var pending: [(index: Int, spec: FactEditSpec, hparams: FactHyperparameters, results: [RequestResult], record: [JSONNodeMember])] = []
        for (index, edit) in job.manifest.edits.enumerated() {
            guard case .fact(_, let json) = edit.kind else { continue }
            let spec = try FactRequestParser.parse(json, manifest: job.manifest.path, line: edit.line)
            var h = HyperparameterDefaults.defaults(spec.method, context: context)
            if let f = engine.hparamsFile { h = try h.applying(f, context: context) }
            if let o = spec.hparams {
                h = try h.applying(HyperparameterSource(name: "\(spec.manifest):\(spec.line): hparams", values: o), context: context)
            }
            try check(spec, h)
            holdStatistics(only: h.layers)
            let (factors, results, record) = try compute(spec, hparams: h)
            // Place the factors on the file's tensors (HF names and orientation → stored).
            var targets: [TensorDelta] = []
            for f in factors {
                let (u, v) = editedIsTransposed ? (f.v, f.u) : (f.u, f.v)   // Conv1D stores [in, out]
                targets.append(try job.manifest.placeLowRank(tensor: downName(f.layer), u: u, v: v, rank: f.rank,
                                                             line: spec.line, against: job.model))
            }
            edits[index] = ResolvedEdit(id: edit.id, line: edit.line, kind: spec.method.rawValue, targets: targets)
            pending.append((index, spec, h, results, record))
            try advance(factors)
            engine.afterLine?(self)
        }
        // The model as the run leaves it (restrained once for `end`), for each fact's probability after.
        try finalState()
        for p in pending {
            var reqs: [JSONNode] = []
            for (r, res) in zip(p.spec.requests, p.results) {
                let after = try probability(r, model: model)
                summaries.append("\(p.spec.manifest):\(p.spec.line): \(p.spec.method.rawValue) \"\(r.subject)\" → \"\(r.target)\": p \(Self.format(res.before)) → \(Self.format(after))")
                var m = res.record
                m.append(JSONNodeMember(key: "probability_after", value: .double(after)))
                reqs.append(.object(m))
            }
            var doc = p.record
            doc.append(JSONNodeMember(key: "requests", value: .array(reqs)))
            doc.append(JSONNodeMember(key: "warnings", value: .array(warnings.map(JSONNode.string))))
            records[p.index] = Array(JSONNode.object(doc).serialized().utf8)
        }
        return FactOutcome(edits: edits, records: records, summaries: summaries, warnings: warnings)
    }

    static func format(_ p: Double) -> String { String(format: p < 1e-3 ? "%.2e" : "%.3f", p) }

    func check(_ spec: FactEditSpec, _ h: FactHyperparameters) throws {
        for r in spec.requests {
            let filled = r.filledPrompt
            let ids = TokenPositions.targetIDs(filledPrompt: filled, target: r.target, tokenizer: tokenizer)
            guard !ids.isEmpty else {
                throw FactError.unplaceable(manifest: spec.manifest, line: spec.line, what: "target \"\(r.target)\" gives no tokens after the prompt")
            }
            let prefix = String(r.prompt[..<r.prompt.range(of: "{}")!.lowerBound])
            let before = tokenizer.encode(TokenPositions.textBefore(prefix)).count
            let through = tokenizer.encode(prefix + r.subject).count
            guard through > before else {
                throw FactError.unplaceable(manifest: spec.manifest, line: spec.line,
                                            what: "the subject \"\(r.subject)\" does not occur as tokens of the text \"\(filled)\"")
            }
            let total = tokenizer.encode(filled + " " + r.target).count
            guard total + 16 <= model.config.contextLength else {
                throw FactError.unplaceable(manifest: spec.manifest, line: spec.line, what: "the prompt is too long for the model's context of \(model.config.contextLength) tokens")
            }
        }
        for l in h.layers where l < 0 || l >= model.config.layerCount {
            throw FactError.unplaceable(manifest: spec.manifest, line: spec.line, what: "layer \(l) is out of range (the model has \(model.config.layerCount))")
        }
    }

    /// P(target | filled prompt) under `model`: the product of the target tokens' probabilities.
    func probability(_ r: FactRequest, model: FactModel) throws -> Double {
        let filled = r.filledPrompt
        let tgt = TokenPositions.targetIDs(filledPrompt: filled, target: r.target, tokenizer: tokenizer)
        let ids = tokenizer.encode(filled) + tgt
        let n = ids.count, t = tgt.count
        let positions = (0..<t).map { TokenPosition(sequence: 0, position: n - t - 1 + $0) }
        let logits = try model.on(threads: job.threads).forward([ids], logits: .positions(positions)).logits.values
        var lp = 0.0
        for (j, tok) in tgt.enumerated() {
            lp += TargetObjective.logSoftmax(logits, j, model.config.vocabularySize)[Int(tok)]
        }
        return exp(lp)
    }

    struct RequestResult {
        var before: Double
        var record: [JSONNodeMember]
    }

    /// A computed delta of one layer, ΔW = u vᵀ in the logical orientation [d_out, d_in].
    struct LayerFactors {
        var layer: Int
        var u: [Float]
        var v: [Float]
        var rank: Int
    }
}
