import Foundation
import PruneFormats

/// `prune-audit --base BASE`: the sidecar replayed on the base model exactly as `prune-apply BASE
/// SIDECAR` would (decode, add the stored restrained factors with the fixed-order kernel, encode,
/// apply a forward residual if any), without writing anything: each edited tensor of the base must
/// be the recorded base tensor, give the recorded output tensor, and the whole replayed model the
/// recorded output hash. σ_max(W₀) is recomputed from the base weights on the way.
public struct AuditBaseReplay: Sendable {
    public struct Tensor: Sendable {
        public var name: String
        /// The base tensor's bytes are the recorded base bytes.
        public var baseMatches: Bool
        /// The materialised tensor is the recorded output tensor (nil when the base did not match).
        public var materialised: Bool?
        /// σ_max of the base weights (nil when not finite or not a matrix).
        public var sigmaMax: Double?
        /// The materialised tensor is free of NaN and ±∞ (nil when not materialised).
        public var finite: Bool?
    }

    public var path: String
    /// SHA-256 of the base file, decompressed.
    public var sha256: String
    /// SHA-256 of the replayed model (the base with the edited tensors materialised).
    public var replayedSHA256: String
    public var isRecordedBase: Bool
    public var matchesRecordedOutput: Bool
    public var tensors: [Tensor]

    /// File-level failures (tensor-level ones are reported with the tensors).
    public var problems: [String] {
        var p: [String] = []
        if !isRecordedBase { p.append("\(path) is not the base this sidecar records (its SHA-256 is \(sha256))") }
        else if !matchesRecordedOutput {
            p.append("replaying the sidecar on \(path) gives a model whose SHA-256 \(replayedSHA256) is not the recorded output hash")
        }
        return p
    }

    static func run(base path: String, sidecar: Sidecar, sidecarPath: String, threads: Int) throws -> AuditBaseReplay {
        let name = displayName(path)
        let records = Dictionary(sidecar.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var found: [String: Tensor] = [:]
        let transform: (TensorInfo, UnsafeRawBufferPointer) throws -> [UInt8]? = { info, bytes in
            guard let record = records[info.name] else { return nil }
            let w0 = try TensorEditor.decode(bytes, info)
            var entry = Tensor(name: info.name, baseMatches: SHA256Hasher.hex(bytes) == record.baseSHA256)
            if w0.allSatisfy(\.isFinite) {
                entry.sigmaMax = try RestraintEngine.sigmaMax(weights: w0, rows: record.rows, cols: record.cols,
                                                              tensor: info.name).sigmaMax
            }
            defer { found[info.name] = entry }
            guard entry.baseMatches else { return nil }
            var w = w0
            try TensorEditor.factored(record).add(to: &w, threads: threads, tensor: info.name)
            var out = try TensorCodec.encode(w, as: info.type)
            if let forward = record.forwardResidual {
                try Residual.apply(forward, codec: record.residualCodec, length: record.residualLength, to: &out,
                                   path: sidecarPath, tensor: info.name)
            }
            entry.finite = try out.withUnsafeBytes { try TensorEditor.decode($0, info) }.allSatisfy(\.isFinite)
            entry.materialised = SHA256Hasher.hex(out) == record.outputSHA256
            return out
        }
        let inputSHA: String, outputSHA: String
        if CheckpointFolder.isFolder(path) {
            // A sharded folder: the pass replay makes over it (CheckpointRewrite), writing nothing.
            let run = try CheckpointRewrite(reading: path)
            _ = try CheckpointApply.checkLayout(run, sidecar: sidecar, sidecarPath: sidecarPath)
            let results = try run.run(selected: Set(records.keys), options: .uncompressed, transform: transform)
            inputSHA = Sidecar.Checkpoint.digest(results.map { ($0.name, $0.inputSHA256) })
            outputSHA = Sidecar.Checkpoint.digest(results.map { ($0.name, $0.outputSHA256) })
        } else {
            let summary = try ModelRewriter(input: path, output: .discard, options: .uncompressed).run(select: { header in
                try TensorEditor.checkHeader(header, against: sidecar, path: name, sidecar: sidecarPath)
                return Set(records.keys)
            }, transform: transform)
            inputSHA = summary.inputSHA256
            outputSHA = summary.outputSHA256
        }
        return AuditBaseReplay(path: path, sha256: inputSHA, replayedSHA256: outputSHA,
                               isRecordedBase: inputSHA == sidecar.model.baseSHA256,
                               matchesRecordedOutput: outputSHA == sidecar.model.outputSHA256,
                               tensors: sidecar.tensors.compactMap { found[$0.name] })
    }
}

extension AuditBaseReplay.Tensor {
    init(name: String, baseMatches: Bool) {
        self.init(name: name, baseMatches: baseMatches, materialised: nil, sigmaMax: nil, finite: nil)
    }
}
