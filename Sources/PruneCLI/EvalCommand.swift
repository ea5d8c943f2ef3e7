import ArgumentParser
import Foundation
import PruneEval
import PruneFacts
import PruneFormats

private let evalAbstract = "Measure what editing did to a model: CounterFact metrics, perplexity, tasks, fluency, condition numbers."
private let evalDiscussion = """
    MODEL is a Hugging Face folder (config.json, tokenizer, safetensors) or a GGUF file. With --base \
    the same measurements are made on BASE and the change is reported. --requests gives CounterFact \
    efficacy, paraphrase and neighborhood success and magnitudes and their harmonic mean (Score); \
    --perplexity the perplexity over a text (one document a line); --tasks the accuracy on \
    multiple-choice tasks (JSON Lines of {"prompt", "choices", "answer"}); --generate the n-gram \
    entropy of greedy generations; --kappa the condition numbers of the matrices a sidecar edited.

    With --sequential REQUESTS, MODEL is the base of PRUNE's experiment: the requests are edited one \
    after another (--method), and at each of --checkpoints every arm of --compare (none, log:e, \
    log:2, linear, each:log:e, …) is measured: efficacy and paraphrase on the edits so far, \
    neighborhood, --perplexity, --tasks, κ and σ_max of the edited matrices and the delta's top \
    singular values before and after the restraint. Rows go to --rows as they are measured \
    (--resume continues an interrupted run); --plot draws the curves; --keep ARM -o OUT leaves that \
    arm's model, manifest and sidecar behind.
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
    @Option(help: "Run PRUNE's sequential-editing experiment on MODEL with these CounterFact requests.")
    var sequential: String?
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
        if sequential != nil {
            for (given, name) in [(base != nil, "--base"), (requests != nil, "--requests"), (generate != nil, "--generate"),
                                  (kappa != nil, "--kappa")] where given {
                throw ValidationError("\(name) does not go with --sequential (κ is measured at every checkpoint)")
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
            throw ValidationError("\(name) goes with --sequential")
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
            experiment.log = { line in
                progress.finish()
                CLIOutput.err("prune-eval: " + line)
            }
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

    func run() throws {
        BLASReexec.restartIfUseful()
        if let sequential { return try runSequential(sequential) }
        try CLIOutput.running("prune-eval") {
            let inputs = try EvaluationInputs.load(options)
            let progress = EvalProgress(tool: "prune-eval")
            defer { progress.finish() }
            func measure(_ path: String) throws -> ModelEvaluation {
                let model = try EvaluationModelLoader.load(path, threads: ThreadCount.resolved(threads))
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
