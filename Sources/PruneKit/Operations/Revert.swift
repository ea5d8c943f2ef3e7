import Foundation
import PruneFormats

/// prune-revert: gives back the base model byte for byte from an edited model and its sidecar.
public enum Revert {
    public struct Result: Sendable {
        public var tensors: [String]
        public var baseSHA256: String
        public var modelBytes: Int
        public var writtenBytes: Int
    }

    /// - Parameters:
    ///   - model: the edited model (`-` for stdin, may be zstd).
    ///   - sidecar: the sidecar of the run that produced it.
    public static func run(model: String, sidecar sidecarPath: String, output: OutputTarget,
                           options: OutputOptions = .default, threads: Int = 0,
                           progress: ((ApplyProgress) -> Void)? = nil) throws -> Result {
        let threads = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        if CheckpointFolder.isFolder(model) {
            return try CheckpointApply.revert(model: model, sidecar: sidecarPath, output: output, options: options,
                                              threads: threads, progress: progress)
        }
        let sidecar = try Sidecar.read(path: sidecarPath)
        var paths = RunPaths()
        paths.input(model, "the edited model")
        paths.input(sidecarPath, "the sidecar")
        try paths.check(output: output, sidecar: nil)
        let modelName = model == "-" ? "<stdin>" : model
        var records: [String: Sidecar.Tensor] = [:]
        for t in sidecar.tensors { records[t.name] = t }
        var done = 0
        var dataBytes = 0
        let staging = OutputStaging(output)
        let summary: RewriteSummary
        do {
            summary = try staging.rewriter(input: model, options: options).run(select: { header in
                dataBytes = header.tensors.map { $0.offset + $0.byteCount }.max() ?? 0
                try TensorEditor.checkHeader(header, against: sidecar, path: modelName, sidecar: sidecarPath)
                return Set(records.keys)
            }, transform: { info, bytes in
                guard let rec = records[info.name] else { return nil }
                let base = try TensorEditor.revert(edited: bytes, info: info, record: rec, threads: threads,
                                                   path: modelName, sidecar: sidecarPath)
                done += 1
                progress?(ApplyProgress(tensorsDone: done, tensorsTotal: records.count, tensor: info.name,
                                        edits: sidecar.edits.count, bytesDone: info.offset + info.byteCount,
                                        bytesTotal: dataBytes))
                return base
            })
            guard summary.inputSHA256 == sidecar.model.outputSHA256 else {
                throw ApplyError.modelHashMismatch(path: modelName, sidecar: sidecarPath, which: "output")
            }
            guard summary.outputSHA256 == sidecar.model.baseSHA256 else {
                throw ApplyError.modelHashMismatch(path: output.name, sidecar: sidecarPath, which: "base")
            }
            try staging.commit()
        } catch {
            staging.discard()
            throw error
        }
        return Result(tensors: summary.replaced, baseSHA256: summary.outputSHA256, modelBytes: summary.outputBytes,
                      writtenBytes: summary.writtenBytes)
    }
}
