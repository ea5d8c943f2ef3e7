import Foundation
import PruneFormats

/// Replay and revert make the same pass over the tensors a sidecar records, in opposite directions:
/// replay turns each recorded tensor of the base model into its edited bytes, revert turns the edited
/// bytes back into the base. This is their one pass, for a single file and for every shard of a
/// folder (`CheckpointApply`): the per-tensor step with its progress report, and the check of the
/// model hashes at both ends.
final class SidecarPass {
    enum Direction {
        /// The base model in, the edited model out.
        case replay
        /// The edited model in, the base model out.
        case revert
    }

    let direction: Direction
    let sidecar: Sidecar
    /// The sidecar as errors name it.
    let sidecarPath: String
    let threads: Int
    /// Replay only: write edited tensors even when they hold NaN or ±∞.
    let allowNonFinite: Bool
    /// The recorded tensors by name.
    let records: [String: Sidecar.Tensor]
    private var done = 0

    init(_ direction: Direction, sidecar: Sidecar, sidecarPath: String, threads: Int, allowNonFinite: Bool = false) {
        self.direction = direction
        self.sidecar = sidecar
        self.sidecarPath = sidecarPath
        self.threads = threads
        self.allowNonFinite = allowNonFinite
        var records: [String: Sidecar.Tensor] = [:]
        for t in sidecar.tensors { records[t.name] = t }
        self.records = records
    }

    /// One tensor of the model at `path`: nil when the sidecar does not record it, else its bytes on
    /// the other side of the edit. `bytesDone` and `bytesTotal` go into the progress report.
    func step(_ info: TensorInfo, _ bytes: UnsafeRawBufferPointer, path: String, bytesDone: Int, bytesTotal: Int,
              progress: ((ApplyProgress) -> Void)?) throws -> [UInt8]? {
        guard let rec = records[info.name] else { return nil }
        let out: [UInt8]
        switch direction {
        case .replay:
            out = try TensorEditor.replay(base: bytes, info: info, record: rec, threads: threads, allowNonFinite: allowNonFinite,
                                          path: path, sidecar: sidecarPath)
        case .revert:
            out = try TensorEditor.revert(edited: bytes, info: info, record: rec, threads: threads, path: path, sidecar: sidecarPath)
        }
        done += 1
        progress?(ApplyProgress(tensorsDone: done, tensorsTotal: records.count, tensor: info.name,
                                edits: sidecar.edits.count, bytesDone: bytesDone, bytesTotal: bytesTotal))
        return out
    }

    /// Checks that the model read (`input`, at `inputPath`) is the side of the edit this pass starts
    /// from and the model written (`output`, at `outputPath`) the side it ends at, by the recorded
    /// hashes `base` and `edited`.
    func checkEnds(input: String, output: String, base: String, edited: String, inputPath: String, outputPath: String) throws {
        let (from, to) = direction == .replay ? ((base, "base"), (edited, "output")) : ((edited, "output"), (base, "base"))
        guard input == from.0 else { throw ApplyError.modelHashMismatch(path: inputPath, sidecar: sidecarPath, which: from.1) }
        guard output == to.0 else { throw ApplyError.modelHashMismatch(path: outputPath, sidecar: sidecarPath, which: to.1) }
    }

    /// A single model file (`-` for stdin, may be zstd) through a staged output, committed only when
    /// both ends match the sidecar.
    func rewriteFile(model: String, output: OutputTarget, options: OutputOptions,
                     progress: ((ApplyProgress) -> Void)?) throws -> RewriteSummary {
        let modelName = model == "-" ? "<stdin>" : model
        var dataBytes = 0
        let staging = OutputStaging(output)
        let summary: RewriteSummary
        do {
            summary = try staging.rewriter(input: model, options: options).run(select: { header in
                dataBytes = header.tensors.map { $0.offset + $0.byteCount }.max() ?? 0
                try TensorEditor.checkHeader(header, against: sidecar, path: modelName, sidecar: sidecarPath)
                return Set(records.keys)
            }, transform: { info, bytes in
                try step(info, bytes, path: modelName, bytesDone: info.offset + info.byteCount, bytesTotal: dataBytes,
                         progress: progress)
            })
            try checkEnds(input: summary.inputSHA256, output: summary.outputSHA256, base: sidecar.model.baseSHA256,
                          edited: sidecar.model.outputSHA256, inputPath: modelName, outputPath: output.name)
            try staging.commit()
        } catch {
            staging.discard()
            throw error
        }
        return summary
    }
}
