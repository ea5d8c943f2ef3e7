import Foundation
import PruneFormats

/// `prune-apply MODEL SIDECAR`: re-creates the edited model from the base model and the restrained
/// factors the sidecar recorded, bit for bit, and checks the recorded hashes.
enum Replay {
    static func run(_ request: ApplyRequest, progress: ((ApplyProgress) -> Void)?) throws -> ApplyResult {
        let sidecarName = request.manifest
        let sidecar = try Sidecar.read(path: sidecarName)
        try Apply.checkPaths(request, sidecarPath: nil)
        let pass = SidecarPass(.replay, sidecar: sidecar, sidecarPath: sidecarName, threads: request.options.resolvedThreads,
                               allowNonFinite: request.options.allowNonFinite)
        let summary = try pass.rewriteFile(model: request.model, output: request.output, options: request.options.output,
                                           progress: progress)
        return Apply.result(.replay, sidecar: sidecar, sidecarPath: nil, summary: summary)
    }
}
