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
    @Option(help: ArgumentHelp("Compute only the K-th of N disjoint slices of the text (after the caps); merge the N files for the whole.", valueName: "K/N"))
    var part: String = "1/1"
    @Flag(help: "Go on from the checkpoint OUTPUT.checkpoint of an interrupted run, when there is one.")
    var resume = false
    @Option(help: ArgumentHelp("Write the checkpoint every N chunks of \(StatisticsComputer.chunkDocuments) documents (0 = never).", valueName: "n"))
    var checkpointEvery: Int = 16
    @Flag(name: .shortAndLong, help: "No progress line and no summary line.")
    var quiet = false
    /// For tests: stop (exit 1) after writing the N-th checkpoint, as an interruption would.
    @Option(help: .hidden)
    var stopAfterCheckpoints: Int = 0

    public init() {}

    /// `--part` as (K, N).
    var slice: StatisticsComputer.Part {
        let (k, n) = KeyStatisticsFile.parsePart(part) ?? (1, 1)
        return StatisticsComputer.Part(index: k, count: n)
    }

    public func validate() throws {
        guard docTokens >= 0, maxTokens >= 0, maxDocs >= 1, threads >= 0, layer >= 0, checkpointEvery >= 0, stopAfterCheckpoints >= 0 else {
            throw ValidationError("--doc-tokens, --max-tokens, --threads, --checkpoint-every and --layer must be ≥ 0, --max-docs ≥ 1")
        }
        guard KeyStatisticsFile.parsePart(part) != nil else {
            CLIOutput.err("prune-stats: --part must be K/N with 1 ≤ K ≤ N (the K-th of N slices), not \"\(part)\"")
            throw ExitCode(64)
        }
    }

    /// The checkpoint beside the output.
    var checkpointPath: String { output + ".checkpoint" }

    struct Stopped: LocalizedError {
        var checkpoint: String
        var count: Int
        var errorDescription: String? { "\(checkpoint): stopped after checkpoint \(count) (--stop-after-checkpoints); go on with --resume" }
    }

    public func run() throws {
        if model != "-", text != "-" { BLASReexec.restartIfUseful() }
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-stats") {
            var paths = RunPaths()
            paths.inputs(ofModel: model)
            paths.input(text, "the text")
            try paths.check(outputs: [RunPaths.Output(output, option: "-o", what: "the statistics (-o)"),
                                       RunPaths.Output(checkpointPath, option: "-o", what: "the checkpoint beside -o")])
            let n = ThreadCount.resolved(threads)
            let start = Date()
            let progress = StatsProgress(tool: "prune-stats", quiet: quiet)
            defer { progress.finish() }
            var written = 0
            let checkpoint = checkpointPath, stopAfter = stopAfterCheckpoints
            let s = try StatisticsJob.compute(model: model, text: text, layer: layer,
                                              caps: .init(docTokens: docTokens, maxTokens: maxTokens, maxDocuments: maxDocs),
                                              threads: n,
                                              run: .init(part: slice, checkpoint: checkpoint, checkpointEvery: checkpointEvery, resume: resume),
                                              afterCheckpoint: {
                                                  written += 1
                                                  if stopAfter > 0, written >= stopAfter { throw Stopped(checkpoint: checkpoint, count: written) }
                                              },
                                              progress: progress.report)
            try KeyStatisticsFile.write(s, to: output)
            if FileManager.default.fileExists(atPath: checkpoint) { try? FileManager.default.removeItem(atPath: checkpoint) }
            progress.finish()
            let secs = Date().timeIntervalSince(start)
            let slice = self.slice.count > 1 ? ", part \(part)" : ""
            if !quiet {
                CLIOutput.err("prune-stats: layer \(s.layer)\(slice), \(s.count) tokens of \(s.documents) documents, keys of width \(s.width) (\(String(format: "%.0f", Double(s.count) / max(secs, 1e-9))) tokens/s); wrote \(output)")
            }
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
    @Flag(name: .shortAndLong, help: "No summary line.")
    var quiet = false

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
            if !quiet { CLIOutput.err("prune-stats: merged \(inputs.count) files: layer \(s.layer), \(s.count) tokens of \(s.documents) documents; wrote \(output)") }
        }
    }
}
