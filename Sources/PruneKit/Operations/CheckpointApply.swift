import Foundation
import PruneFormats

/// prune-apply, replay and prune-revert on a sharded checkpoint folder (`CheckpointFolder`): the same
/// per-tensor work as on a single file, shard by shard, into a new folder with the same layout.
enum CheckpointApply {
    /// The shards as the sidecar records them, from a run's results.
    static func shardRecords(_ results: [CheckpointRewrite.ShardResult], base: [String: String]? = nil) -> [Sidecar.Checkpoint.Shard] {
        results.map { .init(name: $0.name, baseSHA256: base?[$0.name] ?? $0.inputSHA256, outputSHA256: $0.outputSHA256,
                            compressed: $0.compressed) }
    }

    /// Checks a folder against the one a sidecar recorded: same shards, each holding the recorded
    /// tensors with their recorded types and shapes; `which` says whether its shards must be the
    /// recorded base or output (checked by hash while the shards are read).
    static func checkLayout(_ run: CheckpointRewrite, sidecar: Sidecar, sidecarPath: String) throws -> Sidecar.Checkpoint {
        guard let c = sidecar.model.checkpoint else {
            throw CheckpointError.layoutMismatch(path: run.folder.path, sidecar: sidecarPath,
                                                 reason: "the sidecar records a single model file, not a folder")
        }
        let names = run.folder.shards.map(\.name)
        guard names == c.shards.map(\.name) else {
            throw CheckpointError.layoutMismatch(path: run.folder.path, sidecar: sidecarPath,
                                                 reason: "shards \(names.joined(separator: ", ")) vs recorded \(c.shards.map(\.name).joined(separator: ", "))")
        }
        guard run.folder.indexName == c.index else {
            throw CheckpointError.layoutMismatch(path: run.folder.path, sidecar: sidecarPath, reason: "index \(run.folder.indexName) vs recorded \(c.index)")
        }
        for (_, header) in run.headers {
            for t in sidecar.tensors {
                guard let info = header.tensors.first(where: { $0.name == t.name }) else { continue }
                _ = try TensorEditor.check(info, against: t, path: run.folder.path, sidecar: sidecarPath)
            }
        }
        let all = Set(run.tensors.map(\.name))
        for t in sidecar.tensors where !all.contains(t.name) {
            throw ApplyError.missingTensor(path: run.folder.path, tensor: t.name, sidecar: sidecarPath)
        }
        return c
    }

    // MARK: apply and continuation

    static func apply(_ request: ApplyRequest, progress: ((ApplyProgress) -> Void)?) throws -> ApplyResult {
        let sidecarPath = request.sidecar ?? Apply.defaultSidecarPath(forManifest: request.manifest)
        try Apply.checkPaths(request, sidecarPath: sidecarPath)
        let clock = ApplyClock()
        let start = clockSeconds()
        let manifest = try clock.measure(\.read) { try EditManifest.load(path: request.manifest) }
        let old = try request.continueFrom.map { try Sidecar.read(path: $0) }
        let oldName = request.continueFrom ?? ""
        let options = request.options
        let settings = TensorEditor.Settings(configuration: options.configuration, kappa: options.kappa,
                                             threads: options.resolvedThreads, allowNonFinite: options.allowNonFinite)
        let run = try CheckpointRewrite(input: request.model, output: request.output)
        do {
            let folderPath = run.folder.path
            var plan = Apply.Plan(manifests: old?.manifests ?? [], edits: old?.edits ?? [], terms: [:])
            var oldRecords: [String: Sidecar.Tensor] = [:]
            var oldCheckpoint: Sidecar.Checkpoint?
            if let old {
                oldCheckpoint = try checkLayout(run, sidecar: old, sidecarPath: oldName)
                for t in old.tensors {
                    oldRecords[t.name] = t
                    plan.terms[t.name] = t.terms
                }
            }
            let resolved = try clock.measure(\.read) { try manifest.resolve(against: run.description) }
            Apply.extend(&plan, manifest: manifest, resolved: resolved)
            for info in run.tensors where plan.terms[info.name] != nil {
                let (rows, cols) = try TensorEditor.matrixShape(info, path: folderPath)
                for term in plan.terms[info.name] ?? [] {
                    try Apply.checkTermShape(term, rows: rows, cols: cols, info: info, path: folderPath)
                }
            }
            var records: [String: Sidecar.Tensor] = [:]
            var done = 0
            let total = run.tensors.reduce(0) { $0 + $1.byteCount }
            let t0 = clockSeconds()
            let results = try run.run(selected: Set(plan.terms.keys), options: options.output) { info, bytes in
                guard let terms = plan.terms[info.name] else { return nil }
                let (out, record): ([UInt8], Sidecar.Tensor)
                if let rec = oldRecords[info.name] {
                    let w0 = try TensorEditor.revert(edited: bytes, info: info, record: rec, threads: settings.threads,
                                                     path: folderPath, sidecar: oldName)
                    (out, record) = try w0.withUnsafeBytes {
                        try TensorEditor.apply(base: $0, info: info, terms: terms, settings: settings, path: folderPath, clock: clock)
                    }
                } else {
                    (out, record) = try TensorEditor.apply(base: bytes, info: info, terms: terms, settings: settings,
                                                           path: folderPath, clock: clock)
                }
                records[info.name] = record
                done += 1
                progress?(ApplyProgress(tensorsDone: done, tensorsTotal: plan.terms.count, tensor: info.name,
                                        edits: plan.edits.count, bytesDone: 0, bytesTotal: total))
                return out
            }
            let rewrite = clockSeconds() - t0
            if let oldCheckpoint {
                for (r, recorded) in zip(results, oldCheckpoint.shards) where r.inputSHA256 != recorded.outputSHA256 {
                    throw ApplyError.modelHashMismatch(path: CheckpointFolder.join(folderPath, r.name), sidecar: oldName, which: "output")
                }
            }
            let baseIndex = oldCheckpoint?.baseIndex ?? run.folder.indexBytes
            let indexSHA = try run.writeIndex(base: baseIndex, shards: results)
            let files = try run.copyOtherFiles()
            let baseShards = oldCheckpoint.map { Dictionary(uniqueKeysWithValues: $0.shards.map { ($0.name, $0.baseSHA256) }) }
            let checkpoint = Sidecar.Checkpoint(index: run.folder.indexName, baseIndex: baseIndex, outputIndexSHA256: indexSHA,
                                                shards: shardRecords(results, base: baseShards), files: files)
            let ordered = run.tensors.compactMap { records[$0.name] }
            let sidecar = Sidecar(
                model: .init(format: .safetensors,
                             baseSHA256: Sidecar.Checkpoint.digest(checkpoint.shards.map { ($0.name, $0.baseSHA256) }),
                             outputSHA256: Sidecar.Checkpoint.digest(checkpoint.shards.map { ($0.name, $0.outputSHA256) }),
                             checkpoint: checkpoint),
                parameters: options.parameters, manifests: plan.manifests, edits: plan.edits, tensors: ordered)
            var compression = 0.0
            let t1 = clockSeconds()
            let staged = try StagedFile(bytes: try SidecarWriter.encode(sidecar, threads: settings.threads, compressionSeconds: &compression),
                                        destination: sidecarPath)
            clock.timings.compression += compression
            clock.timings.write += clockSeconds() - t1 - compression
            // Both renames in one guarded section: a signal cannot leave the folder without its sidecar.
            try TemporaryFiles.guarded {
                do { try run.staging.commit() } catch { staged.discard(); throw error }
                do { try staged.commit() } catch { run.staging.uncommit(); throw error }
            }
            let summaries = results.compactMap(\.summary)
            clock.timings.modelOutput = summaries.reduce(0) { $0 + $1.outputSeconds }
            clock.timings.read += max(0, rewrite - clock.timings.modelOutput - summaries.reduce(0) { $0 + $1.transformSeconds })
            clock.timings.total = clockSeconds() - start
            var r = result(old == nil ? .apply : .continuation, sidecar: sidecar, sidecarPath: sidecarPath, results: results)
            r.timings = clock.timings
            return r
        } catch {
            run.staging.discard()
            throw error
        }
    }

    static func result(_ mode: ApplyResult.Mode, sidecar: Sidecar, sidecarPath: String?,
                       results: [CheckpointRewrite.ShardResult]) -> ApplyResult {
        let summaries = results.compactMap(\.summary)
        return ApplyResult(
            mode: mode, sidecarPath: sidecarPath, sidecar: sidecar, edits: sidecar.edits.count,
            tensors: sidecar.tensors.map {
                .init(name: $0.name, sigmaMax: $0.sigmaMax, sigmaBefore: $0.spectrumBefore.first ?? 0,
                      sigmaAfter: $0.spectrumAfter.first ?? 0, componentsRestrained: $0.componentsRestrained)
            },
            inputSHA256: Sidecar.Checkpoint.digest(results.map { ($0.name, $0.inputSHA256) }),
            outputSHA256: Sidecar.Checkpoint.digest(results.map { ($0.name, $0.outputSHA256) }),
            modelBytes: summaries.reduce(0) { $0 + $1.outputBytes }, writtenBytes: summaries.reduce(0) { $0 + $1.writtenBytes })
    }

    // MARK: replay and revert

    static func replay(_ request: ApplyRequest, progress: ((ApplyProgress) -> Void)?) throws -> ApplyResult {
        try Apply.checkPaths(request, sidecarPath: nil)
        let sidecar = try Sidecar.read(path: request.manifest)
        let pass = SidecarPass(.replay, sidecar: sidecar, sidecarPath: request.manifest, threads: request.options.resolvedThreads,
                               allowNonFinite: request.options.allowNonFinite)
        let results = try rewrite(model: request.model, output: request.output, options: request.options.output, pass: pass,
                                  progress: progress)
        return result(.replay, sidecar: sidecar, sidecarPath: nil, results: results)
    }

    static func revert(model: String, sidecar sidecarPath: String, output: OutputTarget, options: OutputOptions, threads: Int,
                       progress: ((ApplyProgress) -> Void)?) throws -> Revert.Result {
        if case .file(let p) = output, p == sidecarPath || FileIdentity.same(p, sidecarPath) { throw ApplyError.outputIsInput(path: p, option: "-o", input: sidecarPath, what: "the sidecar") }
        let pass = SidecarPass(.revert, sidecar: try Sidecar.read(path: sidecarPath), sidecarPath: sidecarPath, threads: threads)
        let results = try rewrite(model: model, output: output, options: options, pass: pass, progress: progress)
        let summaries = results.compactMap(\.summary)
        return Revert.Result(tensors: summaries.flatMap(\.replaced),
                             baseSHA256: Sidecar.Checkpoint.digest(results.map { ($0.name, $0.outputSHA256) }),
                             modelBytes: summaries.reduce(0) { $0 + $1.outputBytes },
                             writtenBytes: summaries.reduce(0) { $0 + $1.writtenBytes })
    }

    /// Replay or revert of a folder: every shard through `pass`, each checked against the hashes the
    /// sidecar recorded for it, then the base index and the other files; the new folder appears only
    /// when all of it succeeded.
    private static func rewrite(model: String, output: OutputTarget, options: OutputOptions, pass: SidecarPass,
                                progress: ((ApplyProgress) -> Void)?) throws -> [CheckpointRewrite.ShardResult] {
        let run = try CheckpointRewrite(input: model, output: output)
        do {
            let c = try checkLayout(run, sidecar: pass.sidecar, sidecarPath: pass.sidecarPath)
            let results = try run.run(selected: Set(pass.records.keys), options: options) { info, bytes in
                try pass.step(info, bytes, path: run.folder.path, bytesDone: 0, bytesTotal: 0, progress: progress)
            }
            for (r, s) in zip(results, c.shards) {
                try pass.checkEnds(input: r.inputSHA256, output: r.outputSHA256, base: s.baseSHA256, edited: s.outputSHA256,
                                   inputPath: CheckpointFolder.join(run.folder.path, r.name),
                                   outputPath: CheckpointFolder.join(output.name, r.name))
            }
            _ = try run.writeIndex(base: c.baseIndex, shards: results)
            _ = try run.copyOtherFiles()
            try run.staging.commit()
            return results
        } catch {
            run.staging.discard()
            throw error
        }
    }
}
