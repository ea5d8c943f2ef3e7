import ArgumentParser
import Foundation
import PruneKit

/// `prune-diff A B`: argument parsing and output; the work is `ModelDiff.compare`.
public struct DiffCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two models tensor by tensor: what changed, by how much, and with what rank.",
        discussion: """
        A and B are safetensors or GGUF files, plain or zstd-compressed, or '-' for standard input (one \
        of them). Tensors with equal bytes are counted as unchanged without being decoded. For each \
        changed tensor the report gives max |Δ|, ‖Δ‖_F/‖A‖_F, the numerical rank of Δ = B − A (singular \
        values above the storage noise of the dtype), its top singular values and σ_max of both sides. \
        Differences of layout (tensor sets, shapes, dtypes, order, metadata) are listed.
        """)

    @Argument(help: "The first model (the base).")
    var a: String
    @Argument(help: "The second model (the edited one).")
    var b: String
    @Flag(help: "Print the report as JSON.")
    var json = false
    @Flag(help: "Also compute the condition numbers of both sides (full SVD of each changed tensor; slow on big tensors).")
    var spectra = false
    @Option(help: "Also write a sidecar that turns A into B (see prune-sidecar(5)).")
    var sidecar: String?
    @Option(help: "How many top singular values of each Δ to report.")
    var top: Int = 8

    public init() {}

    public func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard !(a == "-" && b == "-") else { throw ValidationError("only one of A and B can be '-' (standard input)") }
    }

    public func run() throws {
        var options = DiffOptions()
        options.spectra = spectra
        options.topSingularValues = top
        do {
            let report = try ModelDiff.compare(a, b, options: options)
            if let sidecar {
                try DiffSidecarCLI.write(report: report, to: sidecar)
            }
            let text = json ? report.json().serialized(pretty: true) + "\n" : report.text()
            FileHandle.standardOutput.write(Data(text.utf8))
        } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            FileHandle.standardError.write(Data("prune-diff: \(message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `--sidecar` is written by the library once the sidecar writer supports foreign edits.
enum DiffSidecarCLI {
    struct NotYet: LocalizedError {
        var errorDescription: String? { "--sidecar: not available in this build" }
    }
    static func write(report: DiffReport, to path: String) throws { throw NotYet() }
}
