import ArgumentParser
import Foundation
import PruneFacts
import PruneFormats
import PruneKit

/// `prune-stats MODEL TEXT --layer L -o FILE` and `prune-stats merge A B … -o FILE`.
public struct StatsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Compute the key statistics ROME, MEMIT and AlphaEdit need, or add partial ones.",
        version: PruneVersion.string,
        subcommands: [StatsComputeCommand.self, StatsMergeCommand.self],
        defaultSubcommand: StatsComputeCommand.self)
    public init() {}
}

public struct StatsComputeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compute",
        abstract: "Σ k kᵀ and the count of the keys at a layer over a text, as a safetensors file.")

    @Argument(help: "The model (safetensors with config.json and tokenizer beside it, a Hugging Face folder, or GGUF).")
    var model: String
    @Argument(help: "The text: one document a line, or JSONL with a text field.")
    var text: String
    @Option(help: "The layer whose MLP down-projection inputs are the keys.")
    var layer: Int
    @Option(name: .shortAndLong, help: "The statistics file to write (atomically).")
    var output: String
    @Option(help: "Cut each document to its first N tokens (0 = the model's context, at most 4096).")
    var docTokens: Int = 0
    @Option(help: "Stop after the document that brings the count to at least N tokens (0 = no cap).")
    var maxTokens: Int = 0
    @Option(help: "Read at most N documents.")
    var maxDocs: Int = 100_000
    @Option(help: "Threads; 0 = one per core, more are capped at the cores. The result never depends on it.")
    var threads: Int = 0

    public init() {}

    public func validate() throws {
        guard docTokens >= 0, maxTokens >= 0, maxDocs >= 1, threads >= 0, layer >= 0 else {
            throw ValidationError("--doc-tokens, --max-tokens, --threads and --layer must be ≥ 0, --max-docs ≥ 1")
        }
    }

    public func run() throws {
        if model != "-", text != "-" { BLASReexec.restartIfUseful() }
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-stats") {
            var paths = RunPaths()
            paths.inputs(ofModel: model)
            paths.input(text, "the text")
            try paths.check(outputs: [RunPaths.Output(output, option: "-o", what: "the statistics (-o)")])
            let n = ThreadCount.resolved(threads)
            let start = Date()
            let s = try StatisticsJob.compute(model: model, text: text, layer: layer,
                                              caps: .init(docTokens: docTokens, maxTokens: maxTokens, maxDocuments: maxDocs),
                                              threads: n)
            try KeyStatisticsFile.write(s, to: output)
            let secs = Date().timeIntervalSince(start)
            CLIOutput.err("prune-stats: layer \(s.layer), \(s.count) tokens of \(s.documents) documents, keys of width \(s.width) (\(String(format: "%.0f", Double(s.count) / max(secs, 1e-9))) tokens/s); wrote \(output)")
        }
    }
}

public struct StatsMergeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Add partial statistics of the same model and layer (shards of a corpus).")

    @Argument(help: "Statistics files written by prune-stats.")
    var inputs: [String]
    @Option(name: .shortAndLong, help: "The merged file to write (atomically).")
    var output: String

    public init() {}

    public func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one statistics file") }
    }

    public func run() throws {
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-stats") {
            var paths = RunPaths()
            for i in inputs { paths.input(i, "a statistics file to merge") }
            try paths.check(outputs: [RunPaths.Output(output, option: "-o", what: "the statistics (-o)")])
            let s = try StatisticsJob.merge(inputs)
            try KeyStatisticsFile.write(s, to: output)
            CLIOutput.err("prune-stats: merged \(inputs.count) files: layer \(s.layer), \(s.count) tokens of \(s.documents) documents; wrote \(output)")
        }
    }
}
