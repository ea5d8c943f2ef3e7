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
        let threads = ThreadCount.resolved(threads)
        if CheckpointFolder.isFolder(model) {
            return try CheckpointApply.revert(model: model, sidecar: sidecarPath, output: output, options: options,
                                              threads: threads, progress: progress)
        }
        let sidecar = try Sidecar.read(path: sidecarPath)
        var paths = RunPaths()
        paths.input(model, "the edited model")
        paths.input(sidecarPath, "the sidecar")
        try paths.check(output: output, sidecar: nil)
        let summary = try SidecarPass(.revert, sidecar: sidecar, sidecarPath: sidecarPath, threads: threads)
            .rewriteFile(model: model, output: output, options: options, progress: progress)
        return Result(tensors: summary.replaced, baseSHA256: summary.outputSHA256, modelBytes: summary.outputBytes,
                      writtenBytes: summary.writtenBytes)
    }
}
