import ArgumentParser
import Foundation
import PruneKit
import PruneFormats

private let adapterAbstract = "Write a sidecar's restrained deltas as a LoRA adapter (llama.cpp GGUF or PEFT folder) for the untouched base."
private let adapterDiscussion = """
    Each edited weight becomes a pair ΔW̄ = B·A of the rank the restrained delta has (its singular \
    values split evenly between A and B), scale 1. OUT ending in .gguf gives a llama.cpp adapter \
    (llama-cli --lora OUT); any other OUT is a new PEFT folder (adapter_config.json + \
    adapter_model.safetensors). --base names and orients the tensors when the sidecar alone cannot \
    (another format than the sidecar's model, Llama q/k rows) and checks every weight against it. \
    Dense edits are refused unless --rank K keeps the K largest components (the residual is reported).
    """

/// Arguments of `prune adapter` / `prune-adapter SIDECAR -o OUT`; the work is `AdapterExport.run`.
public struct AdapterArguments: ParsableArguments {
    @Argument(help: "The sidecar written by prune-apply.")
    var sidecar: String
    @Option(name: .shortAndLong, help: "The adapter: a .gguf file (llama.cpp) or a new folder (PEFT).")
    var output: String
    @Option(help: "The base model (file or Hugging Face folder) the adapter is for.")
    var base: String?
    @Option(help: "Keep at most K components per tensor (truncates dense and high-rank deltas; reports the residual).")
    var rank: Int?

    public init() {}

    public func validate() throws {
        if let rank, rank < 1 { throw ValidationError("--rank must be at least 1, not \(rank)") }
        guard sidecar != "-", output != "-", base != "-" else { throw ValidationError("standard input and output are not supported: name the files") }
    }

    func run() throws {
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-adapter") {
            let adapter = try AdapterExport.run(AdapterRequest(sidecar: sidecar, output: output, base: base, rank: rank))
            func f(_ x: Double) -> String { String(format: "%.4g", x) }
            for p in adapter.pairs where p.truncated {
                let relative = p.deltaNorm > 0 ? p.residualNorm / p.deltaNorm : 0
                CLIOutput.err("prune-adapter: \(p.sidecarTensor): rank \(p.fullRank) truncated to \(p.rank); residual ‖ΔW̄ − B·A‖_F = \(f(p.residualNorm)) (\(f(relative)) of ‖ΔW̄‖_F)")
            }
            for p in adapter.pairs where p.leavesForwardResidual {
                CLIOutput.err("prune-adapter: \(p.sidecarTensor): the residual the sidecar records beyond the factors (prune-diff) is not in the adapter")
            }
            for s in adapter.skipped { CLIOutput.err("prune-adapter: \(s): restrained delta is zero, not in the adapter") }
            let kind = adapter.format == .gguf ? "llama.cpp adapter" : "PEFT adapter"
            let n = adapter.pairs.count == 1 ? "1 weight" : "\(adapter.pairs.count) weights"
            let low = adapter.pairs.map(\.rank).min() ?? 0
            let ranks = low == adapter.maxRank ? "rank \(low)" : "ranks \(low) to \(adapter.maxRank)"
            CLIOutput.err("prune-adapter: wrote \(kind) \(output): \(n), \(ranks), scale 1")
        }
    }
}

/// `prune adapter SIDECAR -o OUT`.
public struct AdapterCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "adapter", abstract: adapterAbstract,
                                                           discussion: adapterDiscussion)
    @OptionGroup var options: AdapterArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-adapter SIDECAR -o OUT`.
public struct AdapterTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-adapter", abstract: adapterAbstract,
                                                           discussion: adapterDiscussion, version: PruneVersion.string)
    @OptionGroup var options: AdapterArguments
    public init() {}
    public func run() throws { try options.run() }
}
