import ArgumentParser
import Foundation
import PruneEval
import PruneFacts
import PruneFormats
import PruneKit
import PruneRuntime

private let evalAbstract = "Measure what editing did to a model: CounterFact metrics, perplexity, tasks, fluency, condition numbers."
private let evalDiscussion = """
    MODEL is a Hugging Face folder (config.json, tokenizer, safetensors) or a GGUF file. With --base \
    the same measurements are made on BASE and the change is reported. --requests gives CounterFact \
    efficacy, paraphrase and neighborhood success and magnitudes and their harmonic mean (Score); \
    --perplexity the perplexity over a text (one document a line); --tasks the accuracy on \
    multiple-choice tasks (JSON Lines of {"prompt", "choices", "answer"}); --generate the n-gram \
    entropy of greedy generations; --kappa the condition numbers of the matrices a sidecar edited. \
    --known OUT writes the requests of --requests that MODEL knows (the true target preferred to the \
    new one and its first token among the --known-top most likely next tokens) to OUT.

    With --sequential REQUESTS, MODEL is the base of PRUNE's experiment: the requests are edited one \
    after another (--method), and at each of --checkpoints every arm of --compare (none, log:e, \
    log:2, linear, each:log:e, …) is measured: efficacy and paraphrase on the edits so far, \
    neighborhood, --perplexity, --tasks, κ and σ_max of the edited matrices and the delta's top \
    singular values before and after the restraint. Rows go to --rows as they are measured \
    (--resume continues an interrupted run); --plot draws the curves; --keep ARM -o OUT leaves that \
    arm's model, manifest and sidecar behind.

    With --choose REQUESTS, the same experiment on the first --sample requests picks the restraint \
    from the grid of --compare: the largest efficacy among the arms whose perplexity rises by at \
    most --max-ppl-rise percent and whose task accuracy falls by at most --max-acc-drop points \
    against the base. The table behind the choice goes to standard output, the choice to --choice, \
    a file prune-apply --restraint-file reads.
    """

/// Arguments of `prune eval` / `prune-eval`.
public struct EvalArguments: ParsableArguments {
    @Argument(help: "The model to measure (a Hugging Face folder or a GGUF file).")
    var model: String
    @Option(help: "Also measure BASE and report the change from it.")
    var base: String?
    @Option(help: "CounterFact requests (JSON array or JSON Lines) for efficacy, paraphrase and neighborhood.")
    var requests: String?
    @Option(help: "A text for perplexity: each non-blank line is a document.")
    var perplexity: String?
    @Option(name: .customLong("ppl-tokens"), help: "Truncate each perplexity document to its first N tokens (BOS included).")
    var pplTokens: Int = 128
    @Option(name: .customLong("ppl-docs"), help: "Use only the first N documents of the perplexity text.")
    var pplDocs: Int?
    @Option(parsing: .upToNextOption, help: "Multiple-choice task files (JSON Lines of {\"prompt\", \"choices\", \"answer\"}).")
    var tasks: [String] = []
    @Option(help: "Generate N tokens greedily after each request's generation prompts and report their n-gram entropy.")
    var generate: Int?
    @Option(help: "Report κ and σ_max of the matrices listed in this sidecar.")
    var kappa: String?
    @Option(help: "Prompts per batched call of the model.")
    var batch: Int = 16
    @Option(help: "Write the requests of --requests that the model knows to this file (JSON Lines, as they were).")
    var known: String?
    @Option(name: .customLong("known-top"), help: "A known request's true target starts with one of the model's N most likely next tokens.")
    var knownTop: Int = 10
    @Option(help: "Run PRUNE's sequential-editing experiment on MODEL with these CounterFact requests.")
    var sequential: String?
    @Option(help: "Choose the restraint for MODEL by a short sequential experiment on these CounterFact requests.")
    var choose: String?
    @Option(help: "--choose: how many of the requests (the first ones) the experiment edits.")
    var sample: Int = 25
    @Option(name: .customLong("max-ppl-rise"), help: "--choose: the largest perplexity rise allowed against the base, in percent.")
    var maxPerplexityRise: Double = 5
    @Option(name: .customLong("max-acc-drop"), help: "--choose: the largest fall of task accuracy allowed against the base, in points.")
    var maxAccuracyDrop: Double = 2
    @Option(help: "--choose: where the chosen restraint goes (for prune-apply --restraint-file).")
    var choice: String = "restraint.json"
    @Option(help: "The editing method of --sequential: rome, memit or alphaedit.")
    var method: String = "rome"
    @Option(name: .customLong("batch-edits"), help: "Requests per MEMIT/AlphaEdit edit (default 10; ROME: 1).")
    var batchEdits: Int?
    @Option(help: "Numbers of edits at which every arm is measured, comma-separated.")
    var checkpoints: String = "10,25,50,100"
    @Option(help: "The arms: none, log:e, log:2, log:ALPHA, linear, with an each: prefix for the each schedule.")
    var compare: String = "none,log:e,log:2,linear"
    @Option(help: "The JSON Lines file the experiment's rows go to, one per checkpoint and arm, as they are measured.")
    var rows: String = "sequential.jsonl"
    @Flag(help: "Continue an interrupted experiment from its --rows file (and its computed edits).")
    var resume = false
    @Option(help: "Draw the experiment's curves (metric against number of edits, one line per arm) as an SVG file.")
    var plot: String?
    @Option(help: "Leave behind the model, manifest and sidecar of this arm (needs -o).")
    var keep: String?
    @Option(name: [.customShort("o"), .long], help: "Where the kept arm's model goes (.zst: compressed).")
    var output: String?
    @Option(help: "Where the kept arm's sidecar goes (default: the manifest path with the extension .prune).")
    var sidecar: String?
    @Option(help: "Where the kept arm's manifest goes (default: the -o path with the extension .jsonl).")
    var manifest: String?
    @Option(help: "Hyperparameters of the editing method (a ROME/MEMIT/AlphaEdit/EasyEdit YAML or JSON file).")
    var hparams: String?
    @Option(name: .customLong("stats-text"), help: "Text for the key statistics C (one document a line, or JSONL with \"text\").")
    var statsText: String?
    @Option(help: "Threads for the model (default: all cores; more are capped at the cores; results do not depend on it).")
    var threads: Int?
    @Option(help: "What the evaluated model's linear layers multiply the weights with: f32 (default, exact) or q8 (activations quantized to 8 bits per block on Q4_K, Q6_K, Q8_0, Q5_0, Q4_0, Q4_1, Q5_1 weights: faster, slightly different scores). Editing always uses f32.")
    var activations: ActivationPrecision = .f32
    @Flag(help: "Print the result as JSON (averages, per-request rows, and with --base the base and the change).")
    var json = false

    public init() {}

    public func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard pplTokens >= 2 else { throw ValidationError("--ppl-tokens must be at least 2") }
        if let pplDocs, pplDocs < 1 { throw ValidationError("--ppl-docs must be at least 1") }
        if let generate, generate < 1 { throw ValidationError("--generate must be at least 1") }
        if generate != nil, requests == nil { throw ValidationError("--generate needs --requests (it generates after their prompts)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard knownTop >= 1 else { throw ValidationError("--known-top must be at least 1") }
        if known != nil {
            guard requests != nil else { throw ValidationError("--known needs --requests (the requests to filter)") }
            for (given, name) in [(base != nil, "--base"), (sequential != nil, "--sequential"), (perplexity != nil, "--perplexity"),
                                  (!tasks.isEmpty, "--tasks"), (generate != nil, "--generate"), (kappa != nil, "--kappa")] where given {
                throw ValidationError("\(name) does not go with --known (it only filters the requests)")
            }
        } else if knownTop != 10 {
            throw ValidationError("--known-top goes with --known")
        }
        if choose != nil {
            guard sequential == nil else { throw ValidationError("--choose does not go with --sequential (it runs its own short experiment)") }
            guard sample >= 1 else { throw ValidationError("--sample must be at least 1") }
            guard maxPerplexityRise.isFinite, maxPerplexityRise >= 0 else { throw ValidationError("--max-ppl-rise must be a number ≥ 0") }
            guard maxAccuracyDrop.isFinite, maxAccuracyDrop >= 0 else { throw ValidationError("--max-acc-drop must be a number ≥ 0") }
            guard perplexity != nil else { throw ValidationError("--choose needs --perplexity (the rule bounds its rise)") }
            guard checkpoints == "10,25,50,100" else { throw ValidationError("--checkpoints does not go with --choose (--sample is its one checkpoint)") }
            for (given, name) in [(keep != nil, "--keep"), (output != nil, "-o"), (sidecar != nil, "--sidecar"), (manifest != nil, "--manifest")]
            where given {
                throw ValidationError("\(name) does not go with --choose (apply the chosen restraint with prune-apply --restraint-file)")
            }
        } else {
            for (given, name) in [(sample != 25, "--sample"), (maxPerplexityRise != 5, "--max-ppl-rise"),
                                  (maxAccuracyDrop != 2, "--max-acc-drop"), (choice != "restraint.json", "--choice")] where given {
                throw ValidationError("\(name) goes with --choose")
            }
        }
        if sequential != nil || choose != nil {
            for (given, name) in [(base != nil, "--base"), (requests != nil, "--requests"), (generate != nil, "--generate"),
                                  (kappa != nil, "--kappa")] where given {
                throw ValidationError("\(name) does not go with \(choose != nil ? "--choose" : "--sequential") (κ is measured at every checkpoint)")
            }
            guard FactMethod(rawValue: method) != nil else { throw ValidationError("--method must be rome, memit or alphaedit") }
            if let batchEdits, batchEdits < 1 { throw ValidationError("--batch-edits must be at least 1") }
            if keep == nil, output != nil || sidecar != nil || manifest != nil {
                throw ValidationError("-o, --sidecar and --manifest go with --keep ARM")
            }
            if keep != nil, output == nil { throw ValidationError("--keep needs -o (where the kept model goes)") }
            return
        }
        for (given, name) in [(resume, "--resume"), (plot != nil, "--plot"), (keep != nil, "--keep"), (output != nil, "-o"),
                              (sidecar != nil, "--sidecar"), (manifest != nil, "--manifest"), (hparams != nil, "--hparams"),
                              (statsText != nil, "--stats-text"), (batchEdits != nil, "--batch-edits")] where given {
            throw ValidationError("\(name) goes with --sequential or --choose")
        }
        if requests == nil, perplexity == nil, tasks.isEmpty, kappa == nil {
            throw ValidationError("nothing to measure: give --requests, --perplexity, --tasks or --kappa")
        }
    }

    var options: EvaluationOptions {
        var o = EvaluationOptions()
        o.requests = requests
        o.perplexity = perplexity
        o.perplexityTokens = pplTokens
        o.perplexityDocuments = pplDocs
        o.tasks = tasks
        o.generate = generate
        o.kappaSidecar = kappa
        o.batchSize = batch
        return o
    }

    func sequentialOptions(_ requests: String) throws -> SequentialOptions {
        var o = SequentialOptions(base: model, requests: requests)
        o.method = FactMethod(rawValue: method)!
        o.batch = batchEdits ?? (o.method == .rome ? 1 : 10)
        o.checkpoints = try checkpoints.split(separator: ",").map { part in
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n >= 1 else {
                throw CLIUsageError(message: "--checkpoints: \"\(part)\" is not a positive number of edits")
            }
            return n
        }
        o.arms = try ExperimentArm.parseList(compare)
        o.keep = try keep.map { try ExperimentArm(parsing: $0) }
        o.output = output
        o.sidecar = sidecar
        o.manifest = manifest
        o.perplexity = perplexity
        o.perplexityTokens = pplTokens
        o.perplexityDocuments = pplDocs
        o.tasks = tasks
        o.hparams = hparams
        o.statsText = statsText
        o.rows = rows
        o.resume = resume
        o.plot = plot
        o.threads = ThreadCount.resolved(threads)
        o.scoringBatch = batch
        return o
    }

    func runSequential(_ requests: String) throws {
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-eval") {
            var experiment = SequentialExperiment(options: try sequentialOptions(requests))
            let progress = EvalProgress(tool: "prune-eval")
            defer { progress.finish() }
            experiment.progress = { progress.line($0) }
            experiment.log = { progress.log($0) }
            let result = try experiment.run()
            progress.finish()
            if json {
                let members: [JSONNodeMember] = [
                    .init(key: "rows", value: .array(result.rows.map { $0.json() })),
                    .init(key: "chains", value: .array(result.chains.map { c in
                        .object([.init(key: "chain", value: .string(c.chain)), .init(key: "edits", value: .int(c.edits)),
                                 .init(key: "seconds", value: .double(c.seconds)), .init(key: "reused", value: .bool(c.reused))])
                    })),
                    .init(key: "seconds", value: .double(result.seconds)),
                ]
                CLIOutput.out(JSONNode.object(members).serialized(pretty: true) + "\n")
            } else {
                CLIOutput.out(ExperimentTable.text(result.rows))
            }
            if let k = result.kept {
                CLIOutput.err("prune-eval: kept \(keep ?? ""): model \(k.model), manifest \(k.manifest), sidecar \(k.sidecar)")
            }
            if let plot { CLIOutput.err("prune-eval: plot \(plot)") }
        }
    }

    func runKnown(_ output: String, requests: String) throws {
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-eval") {
            var paths = RunPaths()
            paths.inputs(ofModel: model)
            paths.input(requests, "the requests (--requests)")
            try paths.check(outputs: [RunPaths.Output(output, option: "--known", what: "the known requests (--known)")])
            let progress = EvalProgress(tool: "prune-eval")
            defer { progress.finish() }
            let m = try EvaluationModelLoader.load(model, threads: ThreadCount.resolved(threads), activations: activations)
            let r = try TemporaryFiles.guarded {
                try KnownRequests(top: knownTop, chunkSize: batch).filter(path: requests, model: m, output: output) {
                    progress.callback(model: model)("known", $0, $1)
                }
            }
            progress.finish()
            if json {
                let rows: [JSONNode] = r.verdicts.map { v in
                    .object([.init(key: "case_id", value: .int(v.caseID)), .init(key: "line", value: .int(v.line)),
                             .init(key: "true_score", value: .double(v.trueScore)), .init(key: "new_score", value: .double(v.newScore)),
                             .init(key: "rank", value: .int(v.rank)), .init(key: "known", value: .bool(v.known))])
                }
                let relations: [JSONNode] = r.relations.map { x in
                    .object([.init(key: "relation", value: .string(x.relation)), .init(key: "kept", value: .int(x.kept)),
                             .init(key: "total", value: .int(x.total))])
                }
                CLIOutput.out(JSONNode.object([.init(key: "kept", value: .int(r.kept)), .init(key: "total", value: .int(r.total)),
                                               .init(key: "top", value: .int(knownTop)), .init(key: "relations", value: .array(relations)),
                                               .init(key: "requests", value: .array(rows))]).serialized(pretty: true) + "\n")
            } else {
                var text = "\(r.kept) of \(r.total) requests known (true target preferred to the new one, its first token among the top \(knownTop)) -> \(output)\n"
                if r.relations.count > 1 || r.relations.first?.relation.isEmpty == false {
                    let width = r.relations.map { $0.relation.count }.max() ?? 0
                    for x in r.relations {
                        let name = x.relation.isEmpty ? "(no relation)" : x.relation
                        text += "  " + name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0) + "  \(x.kept)/\(x.total)\n"
                    }
                }
                CLIOutput.out(text)
            }
        }
    }

    func runChoose(_ requests: String) throws {
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-eval") {
            var o = try sequentialOptions(requests)
            o.checkpoints = [sample]
            let rule = RestraintChoice(maxPerplexityRise: maxPerplexityRise, maxAccuracyDrop: maxAccuracyDrop)
            var experiment = RestraintChooser(options: o, rule: rule, choice: choice)
            let progress = EvalProgress(tool: "prune-eval")
            defer { progress.finish() }
            experiment.progress = { progress.line($0) }
            experiment.log = { progress.log($0) }
            let outcome = try experiment.run()
            progress.finish()
            CLIOutput.out(rule.table(outcome))
            let c = outcome.chosen.arm
            CLIOutput.err("prune-eval: chose \(c.name) (prune-apply --restraint-file \(choice))")
        }
    }

    func run() throws {
        BLASReexec.restartIfUseful()
        if let sequential { return try runSequential(sequential) }
        if let choose { return try runChoose(choose) }
        if let known, let requests { return try runKnown(known, requests: requests) }
        try CLIOutput.running("prune-eval") {
            let inputs = try EvaluationInputs.load(options)
            let progress = EvalProgress(tool: "prune-eval")
            defer { progress.finish() }
            func measure(_ path: String) throws -> ModelEvaluation {
                let model = try EvaluationModelLoader.load(path, threads: ThreadCount.resolved(threads), activations: activations)
                let reader = inputs.kappaTensors.isEmpty ? nil : try ModelTensorReader(path: path)
                return try Evaluator(inputs: inputs).evaluate(model, name: path, matrices: reader.map { r in { try r.matrix($0) } },
                                                              progress: progress.callback(model: path))
            }
            let measured = try measure(model)
            let baseline = try base.map { try measure($0) }
            progress.finish()
            let report = EvaluationReport(model: measured, base: baseline)
            CLIOutput.out(json ? report.json().serialized(pretty: true) + "\n" : report.text())
        }
    }
}

/// Progress of an evaluation on stderr, only when it is a terminal.
final class EvalProgress: @unchecked Sendable {
    let tool: String
    let enabled: Bool
    private var shown = false

    init(tool: String) {
        self.tool = tool
        enabled = CLIOutput.isTerminal(2)
    }

    /// A log line on standard error, after clearing the progress line.
    func log(_ line: String) {
        finish()
        CLIOutput.err("\(tool): " + line)
    }

    func callback(model: String) -> Evaluator.Progress {
        { [self] stage, done, total in
            guard enabled else { return }
            shown = true
            FileHandle.standardError.write(Data("\r\u{1B}[K\(tool): \(model): \(stage) \(done)/\(total)".utf8))
        }
    }

    func line(_ text: String) {
        guard enabled else { return }
        shown = true
        FileHandle.standardError.write(Data("\r\u{1B}[K\(tool): \(text)".utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        shown = false
    }
}

/// `prune eval MODEL …`.
public struct EvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "eval", abstract: evalAbstract, discussion: evalDiscussion)
    @OptionGroup var options: EvalArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-eval MODEL …`.
public struct EvalTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-eval", abstract: evalAbstract,
                                                           discussion: evalDiscussion, version: PruneVersion.string)
    @OptionGroup var options: EvalArguments
    public init() {}
    public func run() throws { try options.run() }
}
