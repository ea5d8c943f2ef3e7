import Foundation
import PruneFormats

/// prune-apply: edits a model with a manifest (restrained, recorded in a sidecar), replays a sidecar
/// on the base model, or continues a sidecar's chain with more edits. Nothing is written on error.
public enum Apply {
    /// `edits.jsonl` → `edits.prune`; a name without extension gets `.prune` appended.
    public static func defaultSidecarPath(forManifest path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let nameStart = slash.map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[nameStart...].lastIndex(of: "."), dot > nameStart {
            return String(path[..<dot]) + ".prune"
        }
        return path + ".prune"
    }

    public static func run(_ request: ApplyRequest, progress: ((ApplyProgress) -> Void)? = nil) throws -> ApplyResult {
        // The restraint's float64 linear algebra (σ_max, QR, SVD) gives results that depend on
        // OpenBLAS's thread partitioning; everything written must not, so BLAS runs on one thread.
        // `threads` still drives zstd, the codecs and the fixed-order delta kernel.
        BLASThreads.set(1)
        let folder = CheckpointFolder.isFolder(request.model)
        if Sidecar.looksLikeSidecar(path: request.manifest) || isBinary(request.manifest) {
            // A sidecar, or a binary file that is no manifest (a damaged sidecar): replay reads it
            // with `Sidecar.read`, whose error says what is wrong in the words audit and revert use.
            return try folder ? CheckpointApply.replay(request, progress: progress) : Replay.run(request, progress: progress)
        }
        return try folder ? CheckpointApply.apply(request, progress: progress) : applyManifest(request, progress: progress)
    }

    /// Whether a file holds a NUL byte in its first 4 KiB (a JSONL manifest is text and never does;
    /// a sidecar always does, in its 8-byte header length).
    static func isBinary(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return false }
        guard let head = try? h.read(upToCount: 4096) else { return false }
        return head.contains(0)
    }

    /// One raw term of a tensor before it has a place in the sidecar's edit list.
    struct Plan {
        var manifests: [Sidecar.Manifest]
        var edits: [Sidecar.Edit]
        /// Terms by tensor name, in edit order.
        var terms: [String: [Sidecar.Term]]
    }

    static func manifestRecord(_ m: EditManifest) -> Sidecar.Manifest {
        let name = URL(fileURLWithPath: m.path).lastPathComponent
        return Sidecar.Manifest(name: name, bytes: m.bytes, sha256: SHA256Hasher.hex(m.bytes))
    }

    static func description(of header: ModelHeader, modelPath: String) -> ModelDescription {
        switch header {
        case .safetensors(let s):
            return ModelDescription.safetensors(tensors: s.tensors, modelPath: modelPath)
        case .gguf(let g):
            return ModelDescription.gguf(tensors: g.tensors, string: { g[$0]?.stringValue },
                                         integer: { g[$0]?.integerValue.map { Int(truncatingIfNeeded: $0) } })
        }
    }

    /// Appends a manifest's resolved edits to a plan.
    static func extend(_ plan: inout Plan, manifest: EditManifest, resolved: [ResolvedEdit], records: [Int: [UInt8]] = [:]) {
        let m = plan.manifests.count
        let first = plan.edits.count
        plan.manifests.append(manifestRecord(manifest))
        for e in resolved {
            let index = plan.edits.count
            plan.edits.append(Sidecar.Edit(manifest: m, id: e.id, kind: e.kind, line: e.line,
                                           tensors: e.targets.map(\.tensor), facts: records[index - first]))
            for t in e.targets {
                let delta: Sidecar.Delta
                switch t.delta {
                case .lowRank(let u, let v, let rank): delta = .lowRank(u: u, v: v, rank: rank)
                case .dense(let d): delta = .dense(d)
                }
                plan.terms[t.tensor, default: []].append(Sidecar.Term(edit: index, delta: delta))
            }
        }
    }

    /// Checks every destination before any work: no output replaces an input (the model and the
    /// files read with it, the manifest or sidecar, every file the manifest refers to, the sidecar
    /// continued, the fact engine's hyperparameters and text), -o and the sidecar differ, and both
    /// folders accept a new file.
    static func checkPaths(_ request: ApplyRequest, sidecarPath: String?, manifest: EditManifest? = nil) throws {
        var paths = RunPaths()
        paths.inputs(ofModel: request.model, wholeFolder: true)
        for f in request.facts?.inputFiles ?? [] { paths.input(f.path, f.what) }
        paths.input(request.manifest, manifest == nil ? "the sidecar replayed" : "the manifest")
        if let c = request.continueFrom { paths.input(c, "the sidecar given to --continue") }
        if let manifest { paths.inputs(of: manifest) }
        try paths.check(output: request.output, sidecar: sidecarPath,
                        sidecarOption: request.sidecar == nil ? "the sidecar (next to the manifest)" : "--sidecar")
    }

    /// A raw term must have the tensor's matrix shape.
    static func checkTermShape(_ term: Sidecar.Term, rows: Int, cols: Int, info: TensorInfo, path: String) throws {
        let (r, c): (Int, Int)
        switch term.delta {
        case .lowRank(let u, let v, let k): (r, c) = (k > 0 ? u.count / k : rows, k > 0 ? v.count / k : cols)
        case .dense(let d): (r, c) = (d.count == rows * cols ? rows : -1, cols)
        }
        guard r == rows, c == cols else {
            throw ApplyError.deltaShape(path: path, tensor: info.name, rows: r, cols: c, expectedRows: rows, expectedCols: cols)
        }
    }

    static func applyManifest(_ request: ApplyRequest, progress: ((ApplyProgress) -> Void)?) throws -> ApplyResult {
        let sidecarPath = request.sidecar ?? defaultSidecarPath(forManifest: request.manifest)
        let clock = ApplyClock()
        let start = clockSeconds()
        let manifest = try clock.measure(\.read) { try EditManifest.load(path: request.manifest, options: request.options.manifest) }
        try checkPaths(request, sidecarPath: sidecarPath, manifest: manifest)
        let old = try request.continueFrom.map { try Sidecar.read(path: $0) }
        let oldName = request.continueFrom ?? ""
        let options = request.options
        let settings = TensorEditor.Settings(configuration: options.configuration, kappa: options.kappa,
                                             threads: options.resolvedThreads, allowNonFinite: options.allowNonFinite)
        let modelName = request.model == "-" ? "<stdin>" : request.model
        if manifest.hasFactEdits {
            guard request.facts != nil else { throw ApplyError.noFactEngine(path: request.manifest) }
            guard request.model != "-" else { throw ApplyError.factsNeedModelFile(path: request.manifest) }
        }
        var outcome: FactOutcome?

        var plan = Plan(manifests: old?.manifests ?? [], edits: old?.edits ?? [], terms: [:])
        var oldRecords: [String: Sidecar.Tensor] = [:]
        for t in old?.tensors ?? [] {
            oldRecords[t.name] = t
            plan.terms[t.name] = t.terms
        }
        var records: [String: Sidecar.Tensor] = [:]
        var done = 0
        var dataBytes = 0
        let staging = OutputStaging(request.output)
        let rewriter = staging.rewriter(input: request.model, options: options.output)
        let summary: RewriteSummary
        let rewriteStart = clockSeconds()
        var rewriteSeconds = 0.0
        do {
            defer { rewriteSeconds = clockSeconds() - rewriteStart }
            summary = try rewriter.run(select: { header in
                dataBytes = header.tensors.map { $0.offset + $0.byteCount }.max() ?? 0
                try header.refuseSplit(path: modelName)
                if let old, old.model.checkpoint != nil {
                    throw CheckpointError.layoutMismatch(path: modelName, sidecar: oldName,
                                                         reason: "the sidecar records a sharded checkpoint folder; give the folder")
                }
                if let old, old.model.format != header.format {
                    throw ApplyError.formatMismatch(path: modelName, sidecar: oldName, model: header.format,
                                                    recorded: old.model.format)
                }
                for name in oldRecords.keys.sorted() {
                    guard let info = header.tensors.first(where: { $0.name == name }) else {
                        throw ApplyError.missingTensor(path: modelName, tensor: name, sidecar: oldName)
                    }
                    _ = try TensorEditor.check(info, against: oldRecords[name]!, path: modelName, sidecar: oldName)
                }
                let model = description(of: header, modelPath: request.model)
                var resolved = try manifest.resolve(against: model)
                var records: [Int: [UInt8]] = [:]
                if manifest.hasFactEdits, let engine = request.facts {
                    let job = FactJob(modelPath: request.model, manifest: manifest, model: model, continued: old,
                                      continuedPath: request.continueFrom,
                                      restraint: options.configuration, threads: settings.threads)
                    let o = try engine.compute(job)
                    for (i, e) in o.edits { resolved[i] = e }
                    records = o.records
                    outcome = o
                }
                extend(&plan, manifest: manifest, resolved: resolved, records: records)
                for info in header.tensors where plan.terms[info.name] != nil {
                    let (rows, cols) = try TensorEditor.matrixShape(info, path: modelName)
                    for term in plan.terms[info.name] ?? [] {
                        try checkTermShape(term, rows: rows, cols: cols, info: info, path: modelName)
                    }
                }
                return Set(plan.terms.keys)
            }, transform: { info, bytes in
                guard let terms = plan.terms[info.name] else { return nil }
                var w0 = [UInt8]()
                if let rec = oldRecords[info.name] {
                    w0 = try TensorEditor.revert(edited: bytes, info: info, record: rec, threads: settings.threads,
                                                 path: modelName, sidecar: oldName)
                }
                let (out, record) = try (oldRecords[info.name] == nil
                    ? TensorEditor.apply(base: bytes, info: info, terms: terms, settings: settings, path: modelName, clock: clock)
                    : w0.withUnsafeBytes {
                        try TensorEditor.apply(base: $0, info: info, terms: terms, settings: settings, path: modelName, clock: clock)
                    })
                records[info.name] = record
                done += 1
                progress?(ApplyProgress(tensorsDone: done, tensorsTotal: plan.terms.count, tensor: info.name,
                                        edits: plan.edits.count, bytesDone: info.offset + info.byteCount,
                                        bytesTotal: dataBytes))
                return out
            })
            if let old, summary.inputSHA256 != old.model.outputSHA256 {
                throw ApplyError.modelHashMismatch(path: modelName, sidecar: oldName, which: "output")
            }
        } catch {
            staging.discard()
            throw error
        }
        let ordered = summary.header.tensors.compactMap { records[$0.name] }
        let sidecar = Sidecar(
            model: .init(format: summary.header.format, baseSHA256: old?.model.baseSHA256 ?? summary.inputSHA256,
                         outputSHA256: summary.outputSHA256),
            parameters: options.parameters, manifests: plan.manifests, edits: plan.edits, tensors: ordered)
        let staged: StagedFile
        do {
            var compression = 0.0
            let t0 = clockSeconds()
            let bytes = try SidecarWriter.encode(sidecar, threads: settings.threads, compressionSeconds: &compression)
            staged = try StagedFile(bytes: bytes, destination: sidecarPath)
            clock.timings.compression += compression
            clock.timings.write += clockSeconds() - t0 - compression
        } catch {
            staging.discard()
            throw error
        }
        // Both renames in one guarded section: a signal cannot leave the model without its sidecar.
        try TemporaryFiles.guarded {
            do { try staging.commit() } catch { staged.discard(); throw error }
            do { try staged.commit() } catch { staging.uncommit(); throw error }
        }
        var r = result(old == nil ? .apply : .continuation, sidecar: sidecar, sidecarPath: sidecarPath, summary: summary)
        r.factSummaries = outcome?.summaries ?? []
        r.factWarnings = outcome?.warnings ?? []
        clock.timings.modelOutput = summary.outputSeconds
        clock.timings.read += max(0, rewriteSeconds - summary.outputSeconds - summary.transformSeconds)
        clock.timings.total = clockSeconds() - start
        r.timings = clock.timings
        return r
    }

    static func result(_ mode: ApplyResult.Mode, sidecar: Sidecar, sidecarPath: String?, summary: RewriteSummary) -> ApplyResult {
        ApplyResult(
            mode: mode, sidecarPath: sidecarPath, sidecar: sidecar, edits: sidecar.edits.count,
            tensors: sidecar.tensors.map {
                .init(name: $0.name, sigmaMax: $0.sigmaMax, sigmaBefore: $0.spectrumBefore.first ?? 0,
                      sigmaAfter: $0.spectrumAfter.first ?? 0, componentsRestrained: $0.componentsRestrained)
            },
            inputSHA256: summary.inputSHA256, outputSHA256: summary.outputSHA256,
            modelBytes: summary.outputBytes, writtenBytes: summary.writtenBytes)
    }
}
