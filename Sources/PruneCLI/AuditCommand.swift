import ArgumentParser
import Foundation
import PruneKit
import PruneFormats

private let auditAbstract = "Account for an edit from its sidecar alone, and tell whether a model is its base, its output, or neither."
private let auditDiscussion = """
    Checks the sidecar's integrity (the SHA-256 of every part), lists each edit and every parameter, \
    and per edited tensor σ_max(W₀), the top singular values of the delta before and after the \
    restraint (recomputed from the stored factors and compared with the recorded ones), the number \
    of restrained components, κ where recorded and the relative perturbation ‖ΔW̄‖₂/‖W₀‖₂. With \
    MODEL, hashes it (decompressed) and each edited tensor; a sharded checkpoint folder (MODEL or --base) \
    is hashed shard by shard against the shard hashes the sidecar records. The restrained delta itself is recomputed \
    from the recorded raw terms and σ_max(W₀) and compared with the stored factors; with --base, the \
    sidecar is replayed on the base and must give the recorded output. MODEL may instead be a LoRA \
    adapter (a PEFT folder or a llama.cpp .gguf adapter, as prune-adapter writes them): each pair, scaled \
    as the engine scales it, must be the sidecar's restrained delta within f32 rounding, and a missing, \
    extra or misshapen pair, or an adapter recorded for another base, fails the audit; --base then names \
    and orients the tensors as prune-adapter's --base does. Exit status: 0 when the sidecar \
    is sound (and MODEL is its base or its output), 2 when MODEL is neither, 1 on any error or failed check.
    """

/// Arguments of `prune audit` / `prune-audit`; the work is `SidecarAudit.run`.
public struct AuditArguments: ParsableArguments {
    @Argument(help: "The sidecar written by prune-apply.")
    var sidecar: String
    @Argument(help: "A model file or checkpoint folder to identify: the base, the edited output, or neither ('-' reads standard input); or a LoRA adapter (PEFT folder, llama.cpp .gguf adapter) to check against the restrained deltas.")
    var model: String?
    @Flag(help: "Print the report as JSON.")
    var json = false
    @Option(help: "The base model: replay the sidecar on it (nothing is written) and check that it gives the recorded output, tensor by tensor; with an adapter, the base its tensors are named for.")
    var base: String?

    public init() {}

    public func validate() throws {
        guard !(model == "-" && base == "-") else { throw ValidationError("only one of MODEL and --base can be '-' (standard input)") }
    }

    func run() throws {
        let report: AuditReport
        do {
            report = try SidecarAudit.run(sidecar: sidecar, model: model, base: base)
        } catch {
            if json {
                let node = JSONNode.object([
                    JSONNodeMember(key: "verdict", value: .null),
                    JSONNodeMember(key: "integrity", value: .object([
                        JSONNodeMember(key: "ok", value: .bool(false)),
                        JSONNodeMember(key: "error", value: .string(CLIOutput.message(error))),
                    ])),
                ])
                CLIOutput.out(node.serialized(pretty: true) + "\n")
            }
            throw CLIOutput.fail("prune-audit", error)
        }
        CLIOutput.out(json ? report.json().serialized(pretty: true) + "\n" : report.text())
        if let first = report.problems.first {
            let more = report.problems.count > 1 ? " (and \(report.problems.count - 1) more problem\(report.problems.count > 2 ? "s" : ""); see the report)" : ""
            CLIOutput.err("prune-audit: \(sidecar): \(first)\(more)")
            throw ExitCode(1)
        }
        if report.verdict == .neither {
            if !json { CLIOutput.err("prune-audit: \(model ?? ""): neither the base nor the output of this sidecar") }
            throw ExitCode(2)
        }
    }
}

/// `prune audit SIDECAR [MODEL]`.
public struct AuditCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "audit", abstract: auditAbstract,
                                                           discussion: auditDiscussion)
    @OptionGroup var options: AuditArguments
    public init() {}
    public func run() throws { try options.run() }
}

/// The standalone `prune-audit SIDECAR [MODEL]`.
public struct AuditTool: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "prune-audit", abstract: auditAbstract,
                                                           discussion: auditDiscussion, version: PruneVersion.string)
    @OptionGroup var options: AuditArguments
    public init() {}
    public func run() throws { try options.run() }
}
