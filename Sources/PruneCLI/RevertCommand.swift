import ArgumentParser
import Foundation
import PruneKit
import PruneFormats

/// `prune-revert EDITED SIDECAR [-o OUT]`: argument parsing and process I/O; the work is `Revert.run`.
public struct RevertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "revert",
        abstract: "Give back the base model, byte for byte, from an edited model and its sidecar.")

    @Argument(help: "The edited model (possibly .zst); '-' reads standard input.")
    var model: String
    @Argument(help: "The sidecar prune-apply wrote for it.")
    var sidecar: String
    @Option(name: .shortAndLong, help: "Write the base model here (atomically) instead of standard output.")
    var output: String?
    @Flag(help: "zstd-compress the output (default: plain, like the original base).")
    var compress = false
    @Option(help: "zstd compression level (1-19).")
    var level: Int32 = 3
    @Option(help: "Threads; 0 = one per core. Output never depends on it.")
    var threads: Int = 0

    public init() {}

    public func validate() throws {
        guard (1...22).contains(level) else { throw ValidationError("--level must be 1…22") }
        guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0") }
    }

    public func run() throws {
        let target: OutputTarget = output.map { .file($0) } ?? .stdout
        try CLIRun.guarding(tool: "prune-revert") {
            if target == .stdout, compress, isatty(1) == 1 {
                throw CLIRun.Refusal("refusing to write compressed data to a terminal (use -o FILE or a redirection)")
            }
            let progress = CLIRun.progress(tool: "prune-revert")
            let r = try Revert.run(model: model, sidecar: sidecar, output: target,
                                   options: OutputOptions(compress: compress, level: level, threads: threads),
                                   threads: threads, progress: progress.report)
            progress.finish()
            let n = r.tensors.count == 1 ? "1 tensor" : "\(r.tensors.count) tensors"
            CLIRun.stderr("prune-revert: restored \(n); base SHA-256 \(r.baseSHA256.prefix(16))… verified")
        }
    }
}
