import ArgumentParser
import Foundation
import PruneFormats
import PruneKit

private let revertAbstract = "Give back the base model, byte for byte, from an edited model and its sidecar."

/// Arguments of `prune revert` / `prune-revert EDITED SIDECAR [-o OUT]`: argument parsing and process
/// I/O; the work is `Revert.run`.
public struct RevertArguments: ParsableArguments {
    @Argument(help: "The edited model (possibly .zst); '-' reads standard input.")
    var model: String
    @Argument(help: "The sidecar prune-apply wrote for it.")
    var sidecar: String
    @Option(name: .shortAndLong, help: "Write the base model here (atomically) instead of standard output.")
    var output: String?
    @Flag(help: "zstd-compress the output (default: plain, like the original base).")
    var compress = false
    @Option(help: "zstd compression level (\(CLIOutput.levels.lowerBound)-\(CLIOutput.levels.upperBound)).")
    var level: Int32 = 3
    @Option(help: "Threads; 0 = one per core. Output never depends on it.")
    var threads: Int = 0

    public init() {}

    public func validate() throws {
        try CLIOutput.validateLevel(level)
        guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0") }
    }

    func run() throws {
        TemporaryFiles.installSignalHandlers()
        let target: OutputTarget = output.map { .file($0) } ?? .stdout
        try CLIRun.guarding(tool: "prune-revert") {
            if target == .stdout, let refusal = CLIRun.refuseModelToTerminal() { throw refusal }
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

/// `prune revert EDITED SIDECAR [-o OUT]`.
public struct RevertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "revert", abstract: revertAbstract)
    @OptionGroup var options: RevertArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-revert EDITED SIDECAR [-o OUT]`.
public struct RevertTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-revert", abstract: revertAbstract,
                                                           version: PruneVersion.string)
    @OptionGroup var options: RevertArguments
    public init() {}
    public func run() throws { try options.run() }
}
