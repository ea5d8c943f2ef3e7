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
            if let adapter = request.adapter {
                throw AdapterError.badOutput(path: adapter, reason: "--adapter takes a manifest, not a sidecar to replay; run prune-adapter on the sidecar")
            }
            return try folder ? CheckpointApply.replay(request, progress: progress) : Replay.run(request, progress: progress)
        }
        return try applyManifest(request, progress: progress)
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
        for o in request.otherInputs { paths.input(o.path, o.what) }
        if let manifest { paths.inputs(of: manifest) }
        try paths.check(output: request.output, sidecar: sidecarPath,
                        sidecarOption: request.sidecar == nil ? "the sidecar (next to the manifest)" : "--sidecar")
    }

    /// `--adapter`: a model file, or a Hugging Face folder written with -o (a folder's shards are
    /// read as they are rewritten), and a destination that is no input of the run and can take the
    /// adapter.
    static func checkAdapterPath(_ adapter: String, request: ApplyRequest, sidecarPath: String) throws {
        if CheckpointFolder.isFolder(request.model) {
            guard case .file = request.output else {
                throw AdapterError.badOutput(path: adapter, reason: "--adapter with a Hugging Face folder needs -o for the edited folder (or run prune-adapter on the sidecar)")
            }
        }
        var others = [(request.manifest, "the manifest"), (sidecarPath, "the sidecar")]
        if let c = request.continueFrom { others.append((c, "the sidecar given to --continue")) }
        if case .file(let o) = request.output { others.append((o, "the model (-o)")) }
        try AdapterExport.checkOutput(AdapterRequest(sidecar: sidecarPath, output: adapter, base: request.model == "-" ? nil : request.model),
                                      format: AdapterFormat(output: adapter), otherInputs: others)
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

    /// Apply and continuation, for a model file (or stdin) and for a Hugging Face folder alike: one
    /// pipeline (manifest, fact engine, plan, restraint, sidecar) over the model's tensors. Only how
    /// the tensors are read and written differs: one rewriter for a file; shard by shard, plus the
    /// index and the other files, for a folder (`CheckpointRewrite`).
    static func applyManifest(_ request: ApplyRequest, progress: ((ApplyProgress) -> Void)?) throws -> ApplyResult {
        let sidecarPath = request.sidecar ?? defaultSidecarPath(forManifest: request.manifest)
        let clock = ApplyClock()
        let start = clockSeconds()
        let manifest = try clock.measure(\.read) { try EditManifest.load(path: request.manifest, options: request.options.manifest) }
        try checkPaths(request, sidecarPath: sidecarPath, manifest: manifest)
        if let adapter = request.adapter { try checkAdapterPath(adapter, request: request, sidecarPath: sidecarPath) }
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
        var described: ModelDescription?

        /// Resolves the manifest on the model's tensors, computes its fact lines, and returns the
        /// tensors to edit.
        func prepare(_ tensors: [TensorInfo], _ model: ModelDescription, bytesTotal: Int) throws -> Set<String> {
            dataBytes = bytesTotal
            described = model
            var resolved = try manifest.resolve(against: model)
            var factRecords: [Int: [UInt8]] = [:]
            if manifest.hasFactEdits, let engine = request.facts {
                let job = FactJob(modelPath: request.model, manifest: manifest, model: model, continued: old,
                                  continuedPath: request.continueFrom,
                                  restraint: options.configuration, threads: settings.threads)
                let o = try engine.compute(job)
                for (i, e) in o.edits { resolved[i] = e }
                factRecords = o.records
                outcome = o
            }
            try refuseIdle(resolved, manifest: manifest)
            extend(&plan, manifest: manifest, resolved: resolved, records: factRecords)
            for info in tensors where plan.terms[info.name] != nil {
                let (rows, cols) = try TensorEditor.matrixShape(info, path: modelName)
                for term in plan.terms[info.name] ?? [] {
                    try checkTermShape(term, rows: rows, cols: cols, info: info, path: modelName)
                }
            }
            return Set(plan.terms.keys)
        }

        /// The edited bytes of one tensor: W₀ (the model's, or rebuilt from the continued sidecar)
        /// plus the restrained delta of every term of the chain.
        func transform(_ info: TensorInfo, _ bytes: UnsafeRawBufferPointer) throws -> [UInt8]? {
            guard let terms = plan.terms[info.name] else { return nil }
            let (out, record): ([UInt8], Sidecar.Tensor)
            if let rec = oldRecords[info.name] {
                let w0 = try TensorEditor.revert(edited: bytes, info: info, record: rec, threads: settings.threads,
                                                 path: modelName, sidecar: oldName)
                (out, record) = try w0.withUnsafeBytes {
                    try TensorEditor.apply(base: $0, info: info, terms: terms, settings: settings, path: modelName, clock: clock)
                }
            } else {
                (out, record) = try TensorEditor.apply(base: bytes, info: info, terms: terms, settings: settings,
                                                       path: modelName, clock: clock)
            }
            records[info.name] = record
            done += 1
            progress?(ApplyProgress(tensorsDone: done, tensorsTotal: plan.terms.count, tensor: info.name,
                                    edits: plan.edits.count, bytesDone: info.offset + info.byteCount, bytesTotal: dataBytes))
            return out
        }

        let written: WrittenModel
        if CheckpointFolder.isFolder(request.model) {
            written = try rewriteFolder(request, old: old, oldName: oldName, clock: clock, prepare: prepare, transform: transform)
        } else {
            written = try rewriteFile(request, old: old, oldName: oldName, modelName: modelName, oldRecords: oldRecords,
                                      prepare: prepare, transform: transform)
        }
        let ordered = written.tensorOrder.compactMap { records[$0] }
        var model = written.model
        if let old { model.baseSHA256 = old.model.baseSHA256 }
        let sidecar = Sidecar(model: model, parameters: options.parameters, manifests: plan.manifests, edits: plan.edits,
                              tensors: ordered)
        var adapter: AdapterExport.Staged?
        if let path = request.adapter, let model = described {
            do {
                let base = AdapterBase(path: modelName, model: model,
                                       folder: AdapterBase.huggingFaceFolder(of: request.model, format: model.format))
                let built = try AdapterExport.build(sidecar: sidecar, sidecarPath: sidecarPath, format: AdapterFormat(output: path),
                                                    base: base, rank: nil)
                adapter = try AdapterExport.stage(built, at: path)
            } catch {
                written.discard()
                throw error
            }
        }
        let staged: StagedFile
        do {
            var compression = 0.0
            let t0 = clockSeconds()
            let bytes = try SidecarWriter.encode(sidecar, threads: settings.threads, compressionSeconds: &compression)
            staged = try StagedFile(bytes: bytes, destination: sidecarPath)
            clock.timings.compression += compression
            clock.timings.write += clockSeconds() - t0 - compression
        } catch {
            written.discard()
            adapter?.discard()
            throw error
        }
        // The renames in one guarded section: a signal cannot leave the model without its sidecar.
        try TemporaryFiles.guarded {
            do { try written.commit() } catch { staged.discard(); adapter?.discard(); throw error }
            do { try staged.commit() } catch { written.uncommit(); adapter?.discard(); throw error }
            do { try adapter?.commit() } catch { written.uncommit(); unlink(sidecarPath); throw error }
        }
        var r = ApplyResult(
            mode: old == nil ? .apply : .continuation, sidecarPath: sidecarPath, sidecar: sidecar, edits: sidecar.edits.count,
            tensors: tensorSummaries(sidecar), inputSHA256: written.inputSHA256, outputSHA256: written.outputSHA256,
            modelBytes: written.modelBytes, writtenBytes: written.writtenBytes)
        r.factSummaries = outcome?.summaries ?? []
        r.factWarnings = outcome?.warnings ?? []
        clock.timings.modelOutput = written.outputSeconds
        clock.timings.read += max(0, written.rewriteSeconds - written.outputSeconds - written.transformSeconds)
        clock.timings.total = clockSeconds() - start
        r.timings = clock.timings
        return r
    }

    /// A manifest line that places no delta on any tensor is an error, never a silent success.
    static func refuseIdle(_ resolved: [ResolvedEdit], manifest: EditManifest) throws {
        if let e = resolved.first(where: { $0.targets.isEmpty }) {
            throw EditError.editsNothing(manifest: manifest.path, line: e.line, id: e.id, kind: e.kind)
        }
    }

    /// The edited model, staged but not yet in place, and what the sidecar and the result record of it.
    struct WrittenModel {
        /// The sidecar's model record (its base hash is the input's; a continuation keeps the chain's).
        var model: Sidecar.Model
        /// Tensor names in file (or shard) order.
        var tensorOrder: [String]
        var inputSHA256: String
        var outputSHA256: String
        var modelBytes: Int
        var writtenBytes: Int
        var rewriteSeconds: Double
        var outputSeconds: Double
        var transformSeconds: Double
        var commit: () throws -> Void
        var uncommit: () -> Void
        var discard: () -> Void
    }

    /// One model file (or stdin) through one rewriter; `prepare` runs once its header is read.
    static func rewriteFile(_ request: ApplyRequest, old: Sidecar?, oldName: String, modelName: String,
                            oldRecords: [String: Sidecar.Tensor],
                            prepare: ([TensorInfo], ModelDescription, Int) throws -> Set<String>,
                            transform: (TensorInfo, UnsafeRawBufferPointer) throws -> [UInt8]?) throws -> WrittenModel {
        let staging = OutputStaging(request.output)
        let rewriteStart = clockSeconds()
        do {
            let summary = try staging.rewriter(input: request.model, options: request.options.output).run(select: { header in
                try header.refuseSplit(path: modelName)
                if let old, old.model.checkpoint != nil {
                    throw CheckpointError.layoutMismatch(path: modelName, sidecar: oldName,
                                                         reason: "the sidecar records a Hugging Face folder; give the folder")
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
                return try prepare(header.tensors, description(of: header, modelPath: request.model),
                                   header.tensors.map { $0.offset + $0.byteCount }.max() ?? 0)
            }, transform: transform)
            if let old, summary.inputSHA256 != old.model.outputSHA256 {
                throw ApplyError.modelHashMismatch(path: modelName, sidecar: oldName, which: "output")
            }
            return WrittenModel(
                model: .init(format: summary.header.format, baseSHA256: summary.inputSHA256, outputSHA256: summary.outputSHA256),
                tensorOrder: summary.header.tensors.map(\.name), inputSHA256: summary.inputSHA256,
                outputSHA256: summary.outputSHA256, modelBytes: summary.outputBytes, writtenBytes: summary.writtenBytes,
                rewriteSeconds: clockSeconds() - rewriteStart, outputSeconds: summary.outputSeconds,
                transformSeconds: summary.transformSeconds,
                commit: staging.commit, uncommit: staging.uncommit, discard: staging.discard)
        } catch {
            staging.discard()
            throw error
        }
    }

    /// A Hugging Face folder (sharded, or one model.safetensors) shard by shard, into a new folder
    /// with the same layout: the index and the other files (config, tokenizer) come along.
    static func rewriteFolder(_ request: ApplyRequest, old: Sidecar?, oldName: String, clock: ApplyClock,
                              prepare: ([TensorInfo], ModelDescription, Int) throws -> Set<String>,
                              transform: (TensorInfo, UnsafeRawBufferPointer) throws -> [UInt8]?) throws -> WrittenModel {
        let run = try CheckpointRewrite(input: request.model, output: request.output)
        do {
            let oldCheckpoint = try old.map { try CheckpointApply.checkLayout(run, sidecar: $0, sidecarPath: oldName) }
            let selected = try clock.measure(\.read) {
                try prepare(run.tensors, run.description, run.tensors.reduce(0) { $0 + $1.byteCount })
            }
            let t0 = clockSeconds()
            let results = try run.run(selected: selected, options: request.options.output, transform: transform)
            let rewrite = clockSeconds() - t0
            if let oldCheckpoint {
                for (r, recorded) in zip(results, oldCheckpoint.shards) where r.inputSHA256 != recorded.outputSHA256 {
                    throw ApplyError.modelHashMismatch(path: CheckpointFolder.join(run.folder.path, r.name), sidecar: oldName,
                                                       which: "output")
                }
            }
            let baseIndex = oldCheckpoint?.baseIndex ?? run.folder.indexBytes
            let indexSHA = try run.writeIndex(base: baseIndex, shards: results)
            let files = try run.copyOtherFiles()
            let baseShards = oldCheckpoint.map { Dictionary(uniqueKeysWithValues: $0.shards.map { ($0.name, $0.baseSHA256) }) }
            let checkpoint = Sidecar.Checkpoint(index: run.folder.indexName, baseIndex: baseIndex, outputIndexSHA256: indexSHA,
                                                shards: CheckpointApply.shardRecords(results, base: baseShards), files: files)
            let summaries = results.compactMap(\.summary)
            let input = Sidecar.Checkpoint.digest(results.map { ($0.name, $0.inputSHA256) })
            let output = Sidecar.Checkpoint.digest(checkpoint.shards.map { ($0.name, $0.outputSHA256) })
            let staging = run.staging
            return WrittenModel(
                model: .init(format: .safetensors, baseSHA256: input, outputSHA256: output, checkpoint: checkpoint),
                tensorOrder: run.tensors.map(\.name), inputSHA256: input, outputSHA256: output,
                modelBytes: summaries.reduce(0) { $0 + $1.outputBytes }, writtenBytes: summaries.reduce(0) { $0 + $1.writtenBytes },
                rewriteSeconds: rewrite, outputSeconds: summaries.reduce(0) { $0 + $1.outputSeconds },
                transformSeconds: summaries.reduce(0) { $0 + $1.transformSeconds },
                commit: staging.commit, uncommit: staging.uncommit, discard: staging.discard)
        } catch {
            run.staging.discard()
            throw error
        }
    }

    static func tensorSummaries(_ sidecar: Sidecar) -> [ApplyResult.TensorSummary] {
        sidecar.tensors.map {
            .init(name: $0.name, sigmaMax: $0.sigmaMax, sigmaBefore: $0.spectrumBefore.first ?? 0,
                  sigmaAfter: $0.spectrumAfter.first ?? 0, componentsRestrained: $0.componentsRestrained)
        }
    }

    static func result(_ mode: ApplyResult.Mode, sidecar: Sidecar, sidecarPath: String?, summary: RewriteSummary) -> ApplyResult {
        ApplyResult(
            mode: mode, sidecarPath: sidecarPath, sidecar: sidecar, edits: sidecar.edits.count,
            tensors: tensorSummaries(sidecar), inputSHA256: summary.inputSHA256, outputSHA256: summary.outputSHA256,
            modelBytes: summary.outputBytes, writtenBytes: summary.writtenBytes)
    }
}
