import Foundation
import PruneFacts
import PruneFormats
import PruneKit
import PruneRuntime

/// PRUNE's experiment on the user's model: the requests edited one after another (or in batches),
/// once per chain of arms, every arm measured at every checkpoint.
///
/// Arms whose models are the same while the edits are computed share one computation: all `end`
/// arms share the chain computed on the unrestrained model (only the restraint applied at the
/// checkpoint differs); each `each` arm has its own chain. A chain is prune-apply's own run of the
/// experiment's manifest, so the kept arm's model and sidecar are exactly what prune-apply writes.
package struct SequentialExperiment {
    package var options: SequentialOptions
    /// Progress text for a terminal (may be called often).
    package var progress: @Sendable (String) -> Void = { _ in }
    /// One line per finished step (chains computed, rows measured).
    package var log: (String) -> Void = { _ in }

    package init(options: SequentialOptions) { self.options = options }

    package struct ChainTiming: Sendable, Equatable {
        package var chain: String
        package var edits: Int
        package var seconds: Double
        package var reused: Bool
    }

    package struct Result: Sendable {
        /// Base first, then checkpoint by checkpoint in arm order.
        package var rows: [ExperimentRow]
        package var arms: [ExperimentArm]
        package var chains: [ChainTiming]
        package var seconds: Double
        package var kept: (model: String, manifest: String, sidecar: String)?
    }

    /// The model file prune-apply edits: the file itself, or the one safetensors file of a folder.
    package static func modelFile(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvalError.unreadable(path: path, reason: "no such file or folder")
        }
        guard isDirectory.boolValue else { return path }
        let single = (path as NSString).appendingPathComponent("model.safetensors")
        if FileManager.default.fileExists(atPath: single) { return single }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".safetensors") }
        guard names.count == 1 else {
            throw EvalError.unreadable(path: path, reason: names.isEmpty ? "no .safetensors file in the folder"
                                       : "the experiment edits one model file; the folder has \(names.count) (sharded models are not supported)")
        }
        return (path as NSString).appendingPathComponent(names[0])
    }

    func validate(recordCount: Int) throws {
        let o = options
        guard !o.arms.isEmpty else { throw EvalError.badOption("--compare needs at least one arm") }
        guard !o.checkpoints.isEmpty else { throw EvalError.badOption("--checkpoints needs at least one number of edits") }
        guard o.checkpoints == o.checkpoints.sorted(), Set(o.checkpoints).count == o.checkpoints.count, o.checkpoints[0] >= 1 else {
            throw EvalError.badOption("--checkpoints must be increasing positive numbers of edits")
        }
        guard o.batch >= 1 else { throw EvalError.badOption("--batch-edits must be at least 1") }
        if o.method == .rome, o.batch != 1 { throw EvalError.badOption("--batch-edits applies to memit and alphaedit; ROME edits one request at a time") }
        for c in o.checkpoints where c % o.batch != 0 {
            throw EvalError.badOption("--checkpoints: \(c) is not a multiple of the batch of \(o.batch) edits")
        }
        guard o.checkpoints.last! <= recordCount else {
            throw EvalError.badOption("--checkpoints: \(o.checkpoints.last!) edits, but \(o.requests) has \(recordCount) requests")
        }
        if let k = o.keep {
            guard o.arms.contains(k) else { throw EvalError.badOption("--keep \(k.name) is not one of the arms of --compare") }
            guard o.output != nil else { throw EvalError.badOption("--keep needs -o (where the kept model goes)") }
        } else if o.output != nil || o.sidecar != nil || o.manifest != nil {
            throw EvalError.badOption("-o, --sidecar and --manifest go with --keep ARM")
        }
    }

    /// Checks every output before any work (`RunPaths`): none replaces a file the run reads (the
    /// base model and the files read with it, the requests, the perplexity text, the task files, the
    /// hyperparameters, the statistics text), no two are one file, and each folder accepts a new file.
    func checkPaths() throws {
        let o = options
        var paths = RunPaths()
        paths.inputs(ofModel: o.base)
        paths.input(o.requests, "the requests (--sequential)")
        if let p = o.perplexity { paths.input(p, "the perplexity text (--perplexity)") }
        for t in o.tasks { paths.input(t, "a task file (--tasks)") }
        if let h = o.hparams { paths.input(h, "the --hparams file") }
        if let s = o.statsText { paths.input(s, "the --stats-text file") }
        var outputs = [RunPaths.Output(o.rows, option: "--rows", what: "the rows (--rows)")]
        if let plot = o.plot { outputs.append(RunPaths.Output(plot, option: "--plot", what: "the plot (--plot)")) }
        if let choice = o.choice { outputs.append(RunPaths.Output(choice, option: "--choice", what: "the chosen restraint (--choice)")) }
        if o.keep != nil, let out = o.output {
            let manifest = o.manifest ?? Self.manifestPath(forOutput: out)
            let manifestOption = o.manifest == nil ? "the manifest (next to -o)" : "--manifest"
            let sidecarOption = o.sidecar == nil ? "the sidecar (next to the manifest)" : "--sidecar"
            outputs += [RunPaths.Output(out, option: "-o", what: "the kept model (-o)"),
                        RunPaths.Output(manifest, option: manifestOption, what: "the kept manifest (\(manifestOption))"),
                        RunPaths.Output(o.sidecar ?? Apply.defaultSidecarPath(forManifest: manifest), option: sidecarOption,
                                        what: "the kept sidecar (\(sidecarOption))")]
        }
        try paths.check(outputs: outputs)
    }

    /// The files besides the base model whose contents determine the measurements: the requests,
    /// the perplexity text, the tasks, the hyperparameters and the statistics text.
    var inputFiles: [String] {
        let o = options
        return [o.requests] + [o.perplexity].compactMap { $0 } + o.tasks + [o.hparams, o.statsText].compactMap { $0 }
    }

    /// The header line of the rows file: everything that determines the measurements, the inputs'
    /// contents included (`inputs`: each file and its SHA-256, null when it cannot be read), so that
    /// `--resume` refuses an experiment whose files changed in place.
    func header(inputs: [(file: String, sha256: String?)]) -> JSONNode {
        func m(_ k: String, _ v: JSONNode) -> JSONNodeMember { .init(key: k, value: v) }
        let o = options
        return .object([
            m("kind", .string("experiment")), m("base", .string(o.base)), m("requests", .string(o.requests)),
            m("inputs", .array(inputs.map { i in
                .object([m("file", .string(i.file)), m("sha256", i.sha256.map { .string($0) } ?? .null)])
            })),
            m("method", .string(o.method.rawValue)), m("batch", .int(o.batch)),
            m("checkpoints", .array(o.checkpoints.map { .int($0) })), m("arms", .array(o.arms.map { .string($0.name) })),
            m("perplexity", o.perplexity.map { .string($0) } ?? .null), m("ppl_tokens", .int(o.perplexityTokens)),
            m("ppl_docs", o.perplexityDocuments.map { .int($0) } ?? .null), m("tasks", .array(o.tasks.map { .string($0) })),
            m("hparams", o.hparams.map { .string($0) } ?? .null), m("stats_text", o.statsText.map { .string($0) } ?? .null),
        ])
    }

    package func run() throws -> Result {
        let started = DispatchTime.now().uptimeNanoseconds
        let o = options
        let records = try CounterFactReader.read(o.requests)
        try validate(recordCount: records.count)
        try checkPaths()
        let total = o.checkpoints.last!
        let used = Array(records.prefix(total))
        let baseFile = try Self.modelFile(o.base)
        let file = try ModelFile(path: baseFile)
        let baseHash = file.withAllBytes { SHA256Hasher.hex($0) }
        var inputHashes: [(file: String, sha256: String?)] = [(baseFile, baseHash)]
        for path in inputFiles {
            inputHashes.append((path, (try? Data(contentsOf: URL(fileURLWithPath: path))).map { SHA256Hasher.hex([UInt8]($0)) }))
        }

        var evalOptions = EvaluationOptions()
        evalOptions.perplexity = o.perplexity
        evalOptions.perplexityTokens = o.perplexityTokens
        evalOptions.perplexityDocuments = o.perplexityDocuments
        evalOptions.tasks = o.tasks
        evalOptions.batchSize = o.scoringBatch
        var inputs = try EvaluationInputs.load(evalOptions)
        inputs.options.requests = o.requests

        try FileManager.default.createDirectory(atPath: o.stateFolder, withIntermediateDirectories: true)
        let rows = try RowsFile(path: o.rows, header: header(inputs: inputHashes), resume: o.resume)

        // The manifest every chain runs: the user's (kept) one, or the state folder's.
        let manifestPath = o.keep == nil ? o.stateFolder + "/manifest.jsonl" : (o.manifest ?? Self.manifestPath(forOutput: o.output!))
        // A kept manifest this run creates goes with the kept model and sidecar: until they are in
        // place, an error or a signal removes it.
        var pendingManifest = o.keep != nil && !FileManager.default.fileExists(atPath: manifestPath)
            ? TemporaryFiles.register(manifestPath) : nil
        defer {
            if let r = pendingManifest {
                unlink(manifestPath)
                r.release()
            }
        }
        try AtomicText.write(ExperimentManifest.text(used, method: o.method, batch: o.batch), to: manifestPath)
        let keptSidecar = o.keep.map { _ in o.sidecar ?? Apply.defaultSidecarPath(forManifest: manifestPath) }

        let hparams = try o.hparams.map { try HyperparameterFile.load(path: $0) }
        if let s = o.statsText, !FileManager.default.fileExists(atPath: s) {
            throw FactError.badStatisticsText(path: s, reason: "no such file")
        }
        let report = progress
        let engine = FactEngine(hparamsFile: hparams, statsText: o.statsText, cache: o.statisticsCache,
                                progress: { @Sendable line in report(line) })
        let model = try EvaluationModelLoader.load(o.base, threads: o.threads)
        model.scorer.maxBatchTokens = 4096
        let weights = model.transformer.weights
        let threads = ThreadCount.resolved(o.threads)
        func baseSHA256() throws -> String { baseHash }

        var chainsOrder: [String] = []
        for a in o.arms where !chainsOrder.contains(a.chain) { chainsOrder.append(a.chain) }
        var timings: [ChainTiming] = []
        var measuredTensors: [String: EditedTensor] = [:]
        defer {
            for t in measuredTensors.values { try? weights.restore(t.role, layer: t.layer) }
        }
        for key in chainsOrder {
            let arms = o.arms.filter { $0.chain == key }
            let keptHere = o.keep.map { $0.chain == key } ?? false
            let configuration: RestraintConfiguration
            if key == "end" {
                configuration = keptHere ? o.keep!.configuration : ExperimentArm(function: .none).configuration
            } else {
                configuration = arms[0].configuration
            }
            let sidecarPath = keptHere ? keptSidecar! : o.stateFolder + "/" + key.replacingOccurrences(of: ":", with: "-") + ".prune"
            let output: OutputTarget = keptHere ? .file(o.output!) : .discard
            progress("chain \(key): computing \(total) edits (\(o.method.rawValue))")
            let chain = try EditChain.make(key: key, base: baseFile, manifest: manifestPath, configuration: configuration,
                                           output: output, sidecarPath: sidecarPath, engine: engine, threads: o.threads ?? 0,
                                           reuse: o.resume && (!keptHere || FileManager.default.fileExists(atPath: o.output!)),
                                           baseSHA256: baseSHA256)
            if keptHere {
                pendingManifest?.release()
                pendingManifest = nil
            }
            timings.append(ChainTiming(chain: key, edits: total, seconds: chain.seconds, reused: chain.reused))
            log(chain.reused ? "chain \(key): \(total) edits reused from \(sidecarPath)"
                : "chain \(key): \(total) edits computed in \(String(format: "%.1f", chain.seconds)) s")
            let tensors = try chain.tensors.map { try EditedTensor.locate($0, file: file, weights: weights) }
            for t in tensors { measuredTensors[t.name] = t }

            if rows.has(arm: "base", edits: 0) == nil {
                for t in measuredTensors.values { try weights.restore(t.role, layer: t.layer) }
                var row = try measure(arm: "base", edits: 0, records: used, inputs: inputs, model: model) {
                    try tensors.map { t in
                        let c = try MatrixConditioning.measure(tensor: t.name, rows: t.rows, cols: t.cols, values: t.w0)
                        return ExperimentRow.TensorState(tensor: t.name, kappa: c.kappa, sigmaMax: c.sigmaMax, sigmaMaxW0: t.sigmaMax,
                                                         deltaBefore: [], deltaAfter: [], restrained: 0)
                    }
                }
                try rows.append(row)
                log("measured base in \(String(format: "%.1f", row.seconds)) s")
            }
            for checkpoint in o.checkpoints {
                for arm in arms where rows.has(arm: arm.name, edits: checkpoint) == nil {
                    progress("\(arm.name) at \(checkpoint) edits: measuring")
                    let row = try measure(arm: arm.name, edits: checkpoint, records: Array(used.prefix(checkpoint)),
                                          inputs: inputs, model: model) {
                        var configuration = arm.configuration
                        configuration.reportCount = 5
                        // Only this chain's tensors differ from the base.
                        for (name, t) in measuredTensors where !tensors.contains(where: { $0.name == name }) {
                            try weights.restore(t.role, layer: t.layer)
                        }
                        return try tensors.map { t in
                            let (w, r) = try t.edited(terms: chain.terms(t.name, edits: checkpoint / o.batch),
                                                      configuration: configuration, threads: threads)
                            try t.install(w, in: weights)
                            let c = try MatrixConditioning.measure(tensor: t.name, rows: t.rows, cols: t.cols, values: w)
                            return ExperimentRow.TensorState(tensor: t.name, kappa: c.kappa, sigmaMax: c.sigmaMax, sigmaMaxW0: t.sigmaMax,
                                                             deltaBefore: r.topSigmaBefore, deltaAfter: r.topSigmaAfter,
                                                             restrained: r.restrainedCount)
                        }
                    }
                    try rows.append(row)
                    log("measured \(arm.name) at \(checkpoint) edits in \(String(format: "%.1f", row.seconds)) s")
                }
            }
        }
        // The rows in table order (a resumed run may have measured them in another order).
        var ordered: [ExperimentRow] = rows.rows.filter { $0.arm == "base" }
        for c in o.checkpoints {
            for a in o.arms { if let r = rows.has(arm: a.name, edits: c) { ordered.append(r) } }
        }
        if let plot = o.plot {
            try AtomicText.write(ExperimentPlot(rows: ordered, arms: o.arms.map(\.name), title: Self.title(o)).svg(), to: plot)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return Result(rows: ordered, arms: o.arms, chains: timings, seconds: seconds,
                      kept: o.keep.map { _ in (o.output!, manifestPath, keptSidecar!) })
    }

    /// Installs the arm's weights (`prepare` returns the edited tensors' states), then scores.
    func measure(arm: String, edits: Int, records: [CounterFactRecord], inputs: EvaluationInputs, model: RuntimeEvaluationModel,
                 prepare: () throws -> [ExperimentRow.TensorState]) throws -> ExperimentRow {
        let start = DispatchTime.now().uptimeNanoseconds
        var row = ExperimentRow(arm: arm, edits: edits)
        row.tensors = try prepare()
        var i = inputs
        i.records = records
        let report = progress
        let e = try Evaluator(inputs: i).evaluate(model, name: options.base, progress: { stage, done, total in
            report("\(arm) at \(edits) edits: \(stage) \(done)/\(total)")
        })
        row.take(e)
        row.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return row
    }

    /// `out.safetensors.zst` → `out.jsonl` (the manifest beside the kept model).
    package static func manifestPath(forOutput path: String) -> String {
        var p = path
        for ext in [".zst", ".safetensors", ".gguf"] where p.hasSuffix(ext) { p = String(p.dropLast(ext.count)) }
        return p + ".jsonl"
    }

    static func title(_ o: SequentialOptions) -> String {
        "\(o.method.rawValue.uppercased()) sequential edits on \((o.base as NSString).lastPathComponent)"
    }
}
