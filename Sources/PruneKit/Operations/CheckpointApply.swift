import Foundation
import PruneFormats

/// Replay and prune-revert on a Hugging Face folder (`CheckpointFolder`): the same per-tensor work as
/// on a single file, shard by shard, into a new folder with the same layout; and the layout checks that
/// apply's folder path (`Apply.rewriteFolder`) shares.
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

    // MARK: replay and revert (apply and continuation on a folder: `Apply.applyManifest`)

    static func result(_ mode: ApplyResult.Mode, sidecar: Sidecar, sidecarPath: String?,
                       results: [CheckpointRewrite.ShardResult]) -> ApplyResult {
        let summaries = results.compactMap(\.summary)
        return ApplyResult(
            mode: mode, sidecarPath: sidecarPath, sidecar: sidecar, edits: sidecar.edits.count,
            tensors: Apply.tensorSummaries(sidecar), inputSHA256: Sidecar.Checkpoint.digest(results.map { ($0.name, $0.inputSHA256) }),
            outputSHA256: Sidecar.Checkpoint.digest(results.map { ($0.name, $0.outputSHA256) }),
            modelBytes: summaries.reduce(0) { $0 + $1.outputBytes }, writtenBytes: summaries.reduce(0) { $0 + $1.writtenBytes })
    }

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
