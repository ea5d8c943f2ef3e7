import Foundation
import PruneFormats
import PruneKit
import PruneRuntime
import PruneTokenizers

extension FactSession {
    /// Adds computed factors to the model's state: the raw delta (`end`), or W₀ plus the restraint
    /// of every delta so far, restrained after each edit (`each`).
    mutating func advance(_ factors: [LayerFactors]) throws {
        let d = model.config.hiddenSize, m = model.config.ffnSize
        for f in factors {
            if edited[f.layer] == nil {
                let s = job.restraint.function == .none ? 1
                    : try RestraintEngine.sigmaMax(weights: try base.down(f.layer), rows: d, cols: m, tensor: downName(f.layer)).sigmaMax
                edited[f.layer] = (s, [])
            }
            let term = try LowRankDelta(rows: d, cols: m, rank: f.rank, a: f.u, b: f.v, tensor: downName(f.layer))
            edited[f.layer]!.terms.append(term)
            switch job.restraint.schedule {
            case .end: try addRaw(term, layer: f.layer)
            case .each: try setRestrained(f.layer)
            }
        }
    }

    /// Schedule `end`: adds a raw term to the layer's weights, as they stand.
    mutating func addRaw(_ term: LowRankDelta, layer: Int) throws {
        model = try model.adding(term, layer: layer, threads: job.threads, tensor: downName(layer))
    }

    /// `--continue`: the model (loaded from the rebuilt W₀) takes the state the chain's fact edits
    /// left it in during a single run of the whole chain: W₀ plus each down projection's recorded raw
    /// terms added in edit order (`end`: unrestrained), or W₀ plus their restraint against σ_max(W₀)
    /// (`each`). Terms of non-fact lines (lowrank, dense, lora) are not part of the engine's state, as
    /// in a single run.
    mutating func seedChain(_ old: Sidecar) throws {
        let d = model.config.hiddenSize, m = model.config.ffnSize
        var layerOf: [String: (layer: Int, stored: StoredMatrix)] = [:]
        for l in 0..<model.config.layerCount {
            if let s = StoredMatrix(hfName: downName(l), in: job.model) { layerOf[s.tensor] = (l, s) }
        }
        for t in old.tensors {
            guard let (l, stored) = layerOf[t.name] else { continue }
            var terms: [LowRankDelta] = []
            for term in t.terms where old.edits.indices.contains(term.edit) && old.edits[term.edit].facts != nil {
                guard case .lowRank(let su, let sv, let k) = term.delta else { continue }
                let (hu, hv) = stored.hfFactors(u: su, v: sv)
                let (u, v) = editedIsTransposed ? (hv, hu) : (hu, hv)   // Conv1D: HF is [in, out]
                terms.append(try LowRankDelta(rows: d, cols: m, rank: k, a: u, b: v, tensor: downName(l)))
            }
            guard !terms.isEmpty else { continue }
            let s = job.restraint.function == .none ? 1
                : try RestraintEngine.sigmaMax(weights: try base.down(l), rows: d, cols: m, tensor: downName(l)).sigmaMax
            edited[l] = (s, terms)
            switch job.restraint.schedule {
            case .end: for term in terms { try addRaw(term, layer: l) }
            case .each: try setRestrained(l)
            }
        }
        if old.edits.contains(where: { $0.kind == FactMethod.alphaedit.rawValue }) {
            warnings.append("--continue: AlphaEdit's null-space projection does not include the keys of the continued chain's edits")
        }
    }

    /// W = W₀ + the restrained accumulated delta of `layer` (the run's function and schedule).
    mutating func setRestrained(_ layer: Int) throws {
        guard let e = edited[layer] else { return }
        let d = model.config.hiddenSize, m = model.config.ffnSize
        let r = try RestraintEngine.restrain(edits: e.terms.map { .lowRank($0) }, rows: d, cols: m, sigmaMax: e.sigmaMax,
                                             configuration: job.restraint, tensor: downName(layer))
        // W₀ decoded again from the model as read (its stored form stays the only copy between edits).
        var w = try base.down(layer)
        try r.factored.add(to: &w, threads: job.threads, tensor: downName(layer))
        model = try model.settingDown(layer, w)
    }

    /// The model as the written file will hold it (up to the stored type's rounding).
    mutating func finalState() throws {
        for l in edited.keys.sorted() { try setRestrained(l) }
    }

    /// C at `layer` from `--stats-text` (cached), or nil for C = I (with a warning, recorded). A
    /// statistics file must be of this model's layer (as `prune-stats merge` checks) and a sum of
    /// k kᵀ; statistics from fewer tokens than the key width are warned about (C is then singular,
    /// which `requireInvertible` refuses for the methods that solve with C).
    mutating func moment(_ layer: Int, hparams h: FactHyperparameters, line: Int) throws -> (Matrix?, JSONNode) {
        if let s = statistics[layer] { return s }
        if let r = released[layer] {
            // Read again (cache or file) for a later line, as the first line read them; the record
            // is the first line's.
            let again = try loadMoment(layer, hparams: r.hparams, line: line)
            statistics[layer] = (again.0, r.record)
            released[layer] = nil
            return (again.0, r.record)
        }
        let got = try loadMoment(layer, hparams: h, line: line)
        statisticsHparams[layer] = h
        return got
    }

    /// Holds C only for the layers of the line about to be computed: the statistics of every other
    /// layer are released (their records kept; `moment` reads them again if a later line edits the
    /// layer). AlphaEdit's projectors and preserved keys are kept (they accumulate over the run).
    mutating func holdStatistics(only layers: [Int]) {
        for (l, s) in statistics where !layers.contains(l) {
            statistics[l] = nil
            if let h = statisticsHparams[l] { released[l] = (s.record, h) }
        }
        for l in romeFactors.keys where !layers.contains(l) { romeFactors[l] = nil }
    }

    /// C at `layer` taken out of the held statistics (its buffer, uniquely referenced, for a factor
    /// to take over; released as `holdStatistics` releases it); nil for C = I.
    mutating func takeMoment(_ layer: Int) -> [Double]? {
        guard let s = statistics[layer], s.moment != nil, let h = statisticsHparams[layer] else { return nil }
        statistics[layer] = nil
        released[layer] = (s.record, h)
        return s.moment?.storage
    }

    private mutating func loadMoment(_ layer: Int, hparams h: FactHyperparameters, line: Int) throws -> (Matrix?, JSONNode) {
        guard let path = engine.statsText else {
            let w = "no --stats-text: the key statistics are C = I (as mom2_adjustment: false)"
            if !warnings.contains(w) { warnings.append(w) }
            let rec: JSONNode = .object([JSONNodeMember(key: "layer", value: .int(layer)),
                                         JSONNodeMember(key: "source", value: .string("identity"))])
            statistics[layer] = (nil, rec)
            return (nil, rec)
        }
        let width = model.config.ffnSize
        // Statistics of the model as it was read (the original repositories compute them once).
        let hash = try StatisticsIdentity.modelHash(base, layer: layer)
        var stats: KeyStatistics
        let rec: JSONNode
        // The file the statistics were read from or written to: read again for C after the spectrum
        // (computed in the sum's own buffer). A temporary one when the cache cannot take them.
        var source = path
        var temporary: String?
        defer { if let t = temporary { try? FileManager.default.removeItem(atPath: t) } }
        if KeyStatisticsFile.looksLikeStatistics(path: path) {
            // A prune-stats file (e.g. merged shards) instead of a text: used for its own layer.
            let given = try KeyStatisticsFile.read(path: path)
            try given.requireMatch(layer: layer, width: width, modelHash: hash, name: path, expected: "this edit needs")
            stats = given
            rec = .object([
                JSONNodeMember(key: "documents", value: .int(given.documents)),
                JSONNodeMember(key: "layer", value: .int(layer)),
                JSONNodeMember(key: "model_hash", value: .string(given.modelHash)),
                JSONNodeMember(key: "sha256", value: .string(given.sha256)),
                JSONNodeMember(key: "source", value: .string("file")),
                JSONNodeMember(key: "text_sha256", value: .string(given.textSHA256)),
                JSONNodeMember(key: "tokens", value: .int(given.count)),
            ])
        } else {
            if text == nil { text = try StatisticsText.load(path: path) }
            let t = text!
            if tokenizerIdentity == nil {
                tokenizerIdentity = (try? TokenizerLoader.identity(path: job.modelPath)) ?? "unknown"
            }
            let docTokens = h.statsDocTokens, maxTokens = h.statsMaxTokens, maxDocs = h.mom2NSamples
            let key = StatisticsCache.Key(modelHash: hash, network: StatisticsIdentity.networkHash(base.config),
                                          tokenizer: tokenizerIdentity!, layer: layer, textSHA256: t.sha256,
                                          docTokens: docTokens, maxTokens: maxTokens, maxDocuments: maxDocs, arithmetic: BLASCore.name)
            var found: KeyStatistics?
            source = engine.cache.path(key)
            switch engine.cache.load(key) {
            case .hit(let s) where s.width == width: found = s
            case .hit: warnings.append("\(engine.cache.path(key)): cached statistics of another key width: recomputed")
            case .rejected(let why): warnings.append("cached statistics not used (\(why)): recomputed")
            case .miss: break
            }
            if found == nil {
                engine.progress?("key statistics at layer \(layer) over \(path)")
                // Held by the exact sum alone, written to the cache (or a temporary file) row by row,
                // and read back: the f64 sum and the exact one are never held together.
                var computed = try StatisticsComputer(model: base, tokenizer: tokenizer, threads: job.threads)
                    .compute(text: t, layer: layer, modelHash: hash, docTokens: docTokens, maxTokens: maxTokens, maxDocuments: maxDocs,
                             materialize: false)
                if !engine.cache.store(computed, key: key) {
                    let t = NSTemporaryDirectory() + "/prune-stats-\(UUID().uuidString).safetensors"
                    temporary = t
                    try KeyStatisticsFile.write(computed, to: t, withExact: false)
                    source = t
                }
                computed.exact = nil
                stats = try KeyStatisticsFile.read(path: source)
            } else {
                stats = found!
            }
            let cached = found != nil
            found = nil
            guard stats.count > 0 else {
                throw FactError.badStatisticsText(path: path, reason: "no tokens to compute statistics from")
            }
            rec = .object([
                JSONNodeMember(key: "cached", value: .bool(cached)),
                JSONNodeMember(key: "doc_tokens", value: .int(docTokens)),
                JSONNodeMember(key: "documents", value: .int(stats.documents)),
                JSONNodeMember(key: "layer", value: .int(layer)),
                JSONNodeMember(key: "max_documents", value: .int(maxDocs)),
                JSONNodeMember(key: "max_tokens", value: .int(maxTokens)),
                JSONNodeMember(key: "model_hash", value: .string(hash)),
                JSONNodeMember(key: "sha256", value: .string(stats.sha256)),
                JSONNodeMember(key: "source", value: .string("text")),
                JSONNodeMember(key: "text", value: .string(URL(fileURLWithPath: path).lastPathComponent)),
                JSONNodeMember(key: "text_sha256", value: .string(t.sha256)),
                JSONNodeMember(key: "tokens", value: .int(stats.count)),
            ])
        }
        guard stats.count > 0 else { throw FactError.badStatisticsFile(path: path, reason: "no tokens (count 0)") }
        // The spectrum once per layer (statistics read again for a later line are the same), in the
        // sum's own buffer; the sum is then read again from its file.
        let spectrum: KeyStatistics.Spectrum
        if let known = spectra[layer]?.spectrum {
            spectrum = known
        } else {
            let sha = stats.sha256
            spectrum = try stats.spectrumOverwritingSum(name: path)
            stats = try KeyStatisticsFile.read(path: source)
            guard stats.sha256 == sha else {
                throw FactError.badStatisticsFile(path: source, reason: "changed while it was read")
            }
        }
        if stats.count < width {
            let w = "\(path): the key statistics at layer \(layer) come from \(stats.count) tokens, fewer than the key width \(width): C is singular"
            if !warnings.contains(w) { warnings.append(w) }
        }
        spectra[layer] = (spectrum, stats.count, path)
        // C made in the sum's buffer: the statistics hold one m × m matrix from here on.
        let c = stats.takeMoment()
        statistics[layer] = (c, rec)
        return (c, rec)
    }

    /// Refuses a line whose method solves with C at `layer` when C is singular (numerical rank below
    /// the key width): the solve would fail, or give an edit dominated by rounding noise.
    func requireInvertible(_ layer: Int, _ spec: FactEditSpec) throws {
        guard let s = spectra[layer] else { return }
        let width = model.config.ffnSize
        guard s.spectrum.rank < width else { return }
        throw FactError.numerical(manifest: spec.manifest, line: spec.line,
                                  what: "the key statistics C at layer \(layer) (\(s.count) tokens, \(s.path)) are singular: numerical rank \(s.spectrum.rank) of the key width \(width); \(spec.method.rawValue) solves with C, give it at least \(width) tokens of varied text")
    }

    /// The context templates for a method: explicit, or generated once per run (seeded).
    mutating func templates(_ method: FactMethod, _ h: FactHyperparameters) throws -> [[String]] {
        if let t = h.contextTemplates { return t }
        let grouped = method != .rome
        let key = "\(grouped)|\(h.contextTemplateLengthParams)|\(h.seed)"
        if let t = templateCache[key] { return t }
        let t = try ContextTemplates.generate(model: loaded, tokenizer: tokenizer, lengthParams: h.contextTemplateLengthParams,
                                              seed: h.seed, grouped: grouped)
        templateCache[key] = t
        return t
    }

    /// The JSON of the parts of a line's record every method shares.
    func commonRecord(_ spec: FactEditSpec, _ h: FactHyperparameters, templates: [[String]], stats: [JSONNode]) -> [JSONNodeMember] {
        [
            JSONNodeMember(key: "method", value: .string(spec.method.rawValue)),
            JSONNodeMember(key: "hparams", value: h.json),
            JSONNodeMember(key: "context_templates", value: .array(templates.map { .array($0.map(JSONNode.string)) })),
            JSONNodeMember(key: "kl_prompt", value: .string("{} is a")),
            JSONNodeMember(key: "statistics", value: .array(stats)),
            JSONNodeMember(key: "schedule", value: .string(job.restraint.schedule.rawValue)),
        ]
    }
}
