import ArgumentParser
import Foundation
import PruneFormats
import PruneFacts
import PruneKit

private let applyAbstract = "Apply a manifest of edits to a model with the PRUNE restraint, writing the model and a sidecar."
private let applyDiscussion = """
    With a sidecar instead of a manifest, re-creates the edited model from the base model bit for bit.
    With --continue, goes on with the chain of edits recorded in OLD.prune.
    """

/// Arguments of `prune apply` / `prune-apply MODEL MANIFEST|SIDECAR`: argument parsing and process
/// I/O; the work is `Apply.run`.
public struct ApplyArguments: ParsableArguments {
    @Argument(help: "The model (.safetensors or .gguf, possibly .zst); '-' reads standard input.")
    var model: String
    @Argument(help: "A JSONL edit manifest, or a sidecar to replay.")
    var manifest: String
    @Option(name: .shortAndLong, help: "Write the model here (atomically) instead of standard output.")
    var output: String?
    @Option(help: "Where the sidecar goes (default: the manifest path with the extension .prune).")
    var sidecar: String?
    @Option(help: "log, linear or none (default log).")
    var restraint: String?
    @Option(help: "Base α of the log restraint (> 1; default e).")
    var alpha: Double?
    @Option(help: "end (restrain the accumulated delta once; the default) or each (after every edit).")
    var schedule: String?
    @Option(name: .customLong("restraint-file"), help: "Take the restraint from this file (as prune-eval --choose writes it) instead of --restraint, --alpha and --schedule.")
    var restraintFile: String?
    @Option(help: "zstd compression level (\(CLIOutput.levels.lowerBound)-\(CLIOutput.levels.upperBound)).")
    var level: Int32 = 3
    @Option(help: "Threads (zstd workers and tensor work); 0 = one per core. Output never depends on it.")
    var threads: Int = 0
    @Flag(help: "Write the model uncompressed.")
    var noCompress = false
    @Option(name: .customLong("continue"), help: "The sidecar of the run that produced MODEL; continue its chain.")
    var continueFrom: String?
    @Flag(help: "Compute condition numbers κ of W₀, W₀+ΔW and the restrained weights (slow).")
    var kappa = false
    @Option(help: "Hyperparameters of fact lines: a ROME/MEMIT/AlphaEdit/EasyEdit YAML as it is, or JSON with the same keys.")
    var hparams: String?
    @Option(help: "Text for the key statistics of fact lines: one document a line, or JSONL with a text field.")
    var statsText: String?
    @Flag(help: "Write edited tensors even when they hold NaN or infinities (otherwise an error naming the tensor).")
    var allowNonfinite = false
    @Flag(help: "Let the manifest read value files and adapters outside its own folder.")
    var allowOutsidePaths = false
    @Option(help: "Also write the restrained deltas as a LoRA adapter here (.gguf: llama.cpp; else a PEFT folder); without -o, no model is written.")
    var adapter: String?
    @Flag(name: .shortAndLong, help: "No progress line and no summary lines (warnings and errors still print).")
    var quiet = false

    public init() {}

    public func validate() throws {
        if let restraint, !["log", "linear", "none"].contains(restraint) {
            throw ValidationError("--restraint must be log, linear or none, not '\(restraint)'")
        }
        if let schedule, !["end", "each"].contains(schedule) {
            throw ValidationError("--schedule must be end or each, not '\(schedule)'")
        }
        if let alpha, !(alpha.isFinite && alpha > 1) { throw ValidationError("--alpha must be a number > 1") }
        if restraintFile != nil, restraint != nil || alpha != nil || schedule != nil {
            throw ValidationError("--restraint-file does not go with --restraint, --alpha or --schedule (the file gives them)")
        }
        try CLIOutput.validateLevel(level)
        guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0") }
    }

    func run() throws {
        // Fact lines run the model: restart with better BLAS kernels first (not when stdin is an input,
        // which a restarted process could not read again).
        if model != "-", manifest != "-", FactCLISupport.hasFactLines(manifest) { BLASReexec.restartIfUseful() }
        TemporaryFiles.installSignalHandlers()
        var options = ApplyOptions()
        switch restraint {
        case "linear": options.restraint = .linear
        case "none": options.restraint = .none
        default: options.restraint = .log(base: alpha ?? M_E)
        }
        options.schedule = schedule == "each" ? .each : .end
        options.kappa = kappa
        options.threads = threads
        options.allowNonFinite = allowNonfinite
        options.manifest = ManifestOptions(allowOutsidePaths: allowOutsidePaths)
        options.output = OutputOptions(compress: !noCompress, level: level, threads: threads)
        let target: OutputTarget = output.map { .file($0) } ?? (adapter == nil ? .stdout : .discard)
        try CLIOutput.running("prune-apply") {
            if target == .stdout, let refusal = CLIOutput.refuseModelToTerminal() { throw refusal }
            if let restraintFile {
                let chosen = try RestraintFile.read(path: restraintFile)
                options.restraint = chosen.function
                options.schedule = chosen.schedule
            }
            let progress = CLIOutput.progress(tool: "prune-apply", quiet: quiet)
            var facts = try FactCLISupport.engine(hparams: hparams, statsText: statsText, tool: "prune-apply")
            facts.steps = progress.factStep
            var request = ApplyRequest(model: model, manifest: manifest, output: target, sidecar: sidecar,
                                       continueFrom: continueFrom, options: options, facts: facts)
            request.adapter = adapter
            if let restraintFile { request.otherInputs.append((restraintFile, "the restraint file")) }
            let r = try Apply.run(request, progress: progress.report)
            progress.finish()
            for w in r.factWarnings { CLIOutput.err("prune-apply: warning: " + w) }
            if !quiet {
                for f in r.factSummaries { CLIOutput.err("prune-apply: " + f) }
                CLIOutput.err("prune-apply: " + Self.summary(r))
                if let adapter { CLIOutput.err("prune-apply: adapter \(adapter)\(output == nil ? " (no model written)" : "")") }
            }
        }
    }

    static func summary(_ r: ApplyResult) -> String {
        func f(_ x: Double) -> String { String(format: "%.4g", x) }
        let names = r.tensors.count == 1 ? "1 tensor" : "\(r.tensors.count) tensors"
        let edits = r.edits == 1 ? "1 edit" : "\(r.edits) edits"
        let sigma = r.tensors.isEmpty ? "" : "; largest σ \(f(r.largestSigmaBefore)) before restraint, \(f(r.largestSigmaAfter)) after"
        switch r.mode {
        case .replay:
            return "replayed \(names) (\(edits)) from the sidecar; output SHA-256 \(r.outputSHA256.prefix(16))… verified"
        case .apply, .continuation:
            let chain = r.mode == .continuation ? " (chain of \(r.sidecar.manifests.count) manifests)" : ""
            return "edited \(names) with \(edits)\(chain)\(sigma); sidecar \(r.sidecarPath ?? "-")"
        }
    }
}

/// `prune apply MODEL MANIFEST|SIDECAR`.
public struct ApplyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "apply", abstract: applyAbstract,
                                                           discussion: applyDiscussion)
    @OptionGroup var options: ApplyArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-apply MODEL MANIFEST|SIDECAR`.
public struct ApplyTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-apply", abstract: applyAbstract,
                                                           discussion: applyDiscussion, version: PruneVersion.string)
    @OptionGroup var options: ApplyArguments
    public init() {}
    public func run() throws { try options.run() }
}
