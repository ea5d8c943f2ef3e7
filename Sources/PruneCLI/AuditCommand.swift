import ArgumentParser
import Foundation
import PruneKit

/// `prune-audit SIDECAR [MODEL]`: argument parsing and output; the work is `SidecarAudit.run`.
public struct AuditCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Account for an edit from its sidecar alone, and tell whether a model is its base, its output, or neither.",
        discussion: """
        Checks the sidecar's integrity (the SHA-256 of every part), lists each edit and every parameter, \
        and per edited tensor σ_max(W₀), the top singular values of the delta before and after the \
        restraint (recomputed from the stored factors and compared with the recorded ones), the number \
        of restrained components, κ where recorded and the relative perturbation ‖ΔW̄‖₂/‖W₀‖₂. With \
        MODEL, hashes it (decompressed) and each edited tensor.
        """)

    @Argument(help: "The sidecar written by prune-apply (or prune-diff --sidecar).")
    var sidecar: String
    @Argument(help: "A model to identify: the base, the edited output, or neither ('-' reads standard input).")
    var model: String?
    @Flag(help: "Print the report as JSON.")
    var json = false

    public init() {}

    public func run() throws {
        let report: AuditReport
        do {
            report = try SidecarAudit.run(sidecar: sidecar, model: model)
        } catch {
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            FileHandle.standardError.write(Data("prune-audit: \(message)\n".utf8))
            if json {
                let node = JSONNode.object([
                    JSONNodeMember(key: "verdict", value: .null),
                    JSONNodeMember(key: "integrity", value: .object([
                        JSONNodeMember(key: "ok", value: .bool(false)),
                        JSONNodeMember(key: "error", value: .string(message)),
                    ])),
                ])
                FileHandle.standardOutput.write(Data((node.serialized(pretty: true) + "\n").utf8))
            }
            throw ExitCode(1)
        }
        let text = json ? report.json().serialized(pretty: true) + "\n" : report.text()
        FileHandle.standardOutput.write(Data(text.utf8))
        if report.verdict == .neither {
            if !json {
                FileHandle.standardError.write(Data("prune-audit: \(model ?? ""): neither the base nor the output of this sidecar\n".utf8))
            }
            throw ExitCode(2)
        }
    }
}
