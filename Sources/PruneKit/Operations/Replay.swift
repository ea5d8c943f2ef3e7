import Foundation
import PruneFormats

/// `prune-apply MODEL SIDECAR`: re-creates the edited model from the base model and the restrained
/// factors the sidecar recorded, bit for bit, and checks the recorded hashes.
enum Replay {
    static func run(_ request: ApplyRequest, progress: ((ApplyProgress) -> Void)?) throws -> ApplyResult {
        let sidecarName = request.manifest
        let sidecar = try Sidecar.read(path: sidecarName)
        try Apply.checkPaths(request, sidecarPath: nil)
        let modelName = request.model == "-" ? "<stdin>" : request.model
        let threads = request.options.resolvedThreads
        var records: [String: Sidecar.Tensor] = [:]
        for t in sidecar.tensors { records[t.name] = t }
        var done = 0
        var dataBytes = 0
        let staging = OutputStaging(request.output)
        let rewriter = staging.rewriter(input: request.model, options: request.options.output)
        let summary: RewriteSummary
        do {
            summary = try rewriter.run(select: { header in
                dataBytes = header.tensors.map { $0.offset + $0.byteCount }.max() ?? 0
                try TensorEditor.checkHeader(header, against: sidecar, path: modelName, sidecar: sidecarName)
                return Set(records.keys)
            }, transform: { info, bytes in
                guard let rec = records[info.name] else { return nil }
                let out = try TensorEditor.replay(base: bytes, info: info, record: rec, threads: threads,
                                                  allowNonFinite: request.options.allowNonFinite,
                                                  path: modelName, sidecar: sidecarName)
                done += 1
                progress?(ApplyProgress(tensorsDone: done, tensorsTotal: records.count, tensor: info.name,
                                        edits: sidecar.edits.count, bytesDone: info.offset + info.byteCount,
                                        bytesTotal: dataBytes))
                return out
            })
            guard summary.inputSHA256 == sidecar.model.baseSHA256 else {
                throw ApplyError.modelHashMismatch(path: modelName, sidecar: sidecarName, which: "base")
            }
            guard summary.outputSHA256 == sidecar.model.outputSHA256 else {
                throw ApplyError.modelHashMismatch(path: request.output.name, sidecar: sidecarName, which: "output")
            }
            try staging.commit()
        } catch {
            staging.discard()
            throw error
        }
        return Apply.result(.replay, sidecar: sidecar, sidecarPath: nil, summary: summary)
    }
}
