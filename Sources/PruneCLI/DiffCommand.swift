import ArgumentParser
import Foundation
import PruneFormats
import PruneKit

private let diffAbstract = "Compare two models tensor by tensor: what changed, by how much, and with what rank."
private let diffDiscussion = """
    A and B are safetensors or GGUF files, plain or zstd-compressed, or '-' for standard input (one \
    of them), or sharded checkpoint folders (model.safetensors.index.json + shards, as prune-apply \
    reads and writes them): tensors are compared by name whichever shard holds them, so a folder and \
    the single file of the same tensors do not differ. Tensors with equal bytes are counted as unchanged without being decoded. For each \
    changed tensor the report gives max |Δ|, ‖Δ‖_F/‖A‖_F, the numerical rank of Δ = B − A (singular \
    values above the storage noise of the dtype), its top singular values and σ_max of both sides. \
    Differences of layout (tensor sets, shapes, dtypes, order, metadata) are listed.
    """

/// Arguments of `prune diff` / `prune-diff`; the work is `ModelDiff.compare`.
public struct DiffArguments: ParsableArguments {
    @Argument(help: "The first model (the base).")
    var a: String
    @Argument(help: "The second model (the edited one).")
    var b: String
    @Flag(help: "Print the report as JSON.")
    var json = false
    @Flag(help: "Also compute the condition numbers of both sides (full SVD of each changed tensor; slow on big tensors).")
    var spectra = false
    @Option(help: "Also write a sidecar that turns A into B: prune-apply A OUT gives B, prune-revert B OUT gives A (A and B both files, or both folders of the same shards).")
    var sidecar: String?
    @Option(help: "How many top singular values of each Δ to report.")
    var top: Int = 8

    public init() {}

    public func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard !(a == "-" && b == "-") else { throw ValidationError("only one of A and B can be '-' (standard input)") }
    }

    func run() throws {
        var options = DiffOptions()
        options.spectra = spectra
        options.topSingularValues = top
        TemporaryFiles.installSignalHandlers()
        try CLIOutput.running("prune-diff") {
            if let sidecar {
                guard a != "-", b != "-" else {
                    throw CLIUsageError(message: "--sidecar needs A and B as files, not standard input")
                }
                try DiffSidecar.checkDestination(a: a, b: b, output: sidecar)
            }
            let report = try ModelDiff.compare(a, b, options: options)
            if let sidecar {
                let r = try DiffSidecar.write(a: a, b: b, to: sidecar)
                CLIOutput.err("prune-diff: sidecar \(sidecar): \(r.tensors.count) tensor\(r.tensors.count == 1 ? "" : "s")"
                              + (r.tensors.isEmpty ? "" : " (" + r.tensors.map { "\($0.name) rank \($0.rank)" }.joined(separator: ", ") + ")"))
            }
            CLIOutput.out(json ? report.json().serialized(pretty: true) + "\n" : report.text())
        }
    }
}

/// `prune diff A B`.
public struct DiffCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "diff", abstract: diffAbstract,
                                                           discussion: diffDiscussion)
    @OptionGroup var options: DiffArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-diff A B`.
public struct DiffTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-diff", abstract: diffAbstract,
                                                           discussion: diffDiscussion, version: PruneVersion.string)
    @OptionGroup var options: DiffArguments
    public init() {}
    public func run() throws { try options.run() }
}
