import ArgumentParser
import Foundation
import PruneEval
import PruneFormats

private let evalAbstract = "Measure what editing did to a model: CounterFact metrics, perplexity, tasks, fluency, condition numbers."
private let evalDiscussion = """
    MODEL is a Hugging Face folder (config.json, tokenizer, safetensors) or a GGUF file. With --base \
    the same measurements are made on BASE and the change is reported. --requests gives CounterFact \
    efficacy, paraphrase and neighborhood success and magnitudes and their harmonic mean (Score); \
    --perplexity the perplexity over a text (one document a line); --tasks the accuracy on \
    multiple-choice tasks (JSON Lines of {"prompt", "choices", "answer"}); --generate the n-gram \
    entropy of greedy generations; --kappa the condition numbers of the matrices a sidecar edited.
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
    @Option(help: "Threads for the model (default: all cores; results do not depend on it).")
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

    func run() throws {
        try CLIOutput.running("prune-eval") {
            let inputs = try EvaluationInputs.load(options)
            let progress = EvalProgress(tool: "prune-eval")
            defer { progress.finish() }
            func measure(_ path: String) throws -> ModelEvaluation {
                let model = try EvaluationModelLoader.load(path, threads: threads)
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
final class EvalProgress {
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
