import Foundation
import PruneFormats

/// Hashes a model in one streamed pass and compares it with the sidecar's hashes. An edited tensor
/// whose bytes are the recorded base gives σ_max(W₀) from its weights; one whose bytes are the
/// recorded output is checked for NaN and ±∞.
enum AuditModelMatcher {
    struct TensorFindings {
        var sigmaMax: Double?
        var finite: Bool?
    }

    static func match(model path: String, sidecar: Sidecar) throws -> (AuditModelMatch, [String: TensorFindings]) {
        let wanted = Dictionary(sidecar.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var states: [String: AuditModelMatch.TensorState] = [:]
        var findings: [String: TensorFindings] = [:]
        let sha: String
        var shards: [AuditModelMatch.Shard]?
        if CheckpointFolder.isFolder(path) {
            // A sharded folder, opened as apply and revert open it; each shard streamed and hashed.
            let folder = try CheckpointFolder(path: path)
            _ = try folder.headers()
            let recorded = Dictionary((sidecar.model.checkpoint?.shards ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            var list: [AuditModelMatch.Shard] = []
            for shard in folder.shards {
                let h = try scan(ModelInput.open(folder.path(of: shard), releaseBehind: true), wanted: wanted,
                                 states: &states, findings: &findings, path: folder.path(of: shard))
                let state: AuditModelMatch.TensorState = recorded[shard.name].map {
                    h == $0.baseSHA256 ? .base : h == $0.outputSHA256 ? .edited : .neither
                } ?? .missing
                list.append(.init(name: shard.name, file: shard.file, sha256: h, state: state,
                                  untouched: recorded[shard.name].map { $0.baseSHA256 == $0.outputSHA256 } ?? false))
            }
            let names = Set(folder.shards.map(\.name))
            for r in sidecar.model.checkpoint?.shards ?? [] where !names.contains(r.name) {
                list.append(.init(name: r.name, file: r.name, sha256: "", state: .missing))
            }
            sha = Sidecar.Checkpoint.digest(zip(folder.shards, list).map { ($0.name, $1.sha256) })
            shards = list
        } else {
            let stream = try ModelInput.open(path, releaseBehind: true)
            sha = try scan(stream, wanted: wanted, states: &states, findings: &findings, path: displayName(path))
        }
        let verdict: AuditVerdict = sha == sidecar.model.outputSHA256 ? .edited
            : sha == sidecar.model.baseSHA256 ? .base : .neither
        var match = AuditModelMatch(path: path, sha256: sha, verdict: verdict,
                                    tensors: sidecar.tensors.map { ($0.name, states[$0.name] ?? .missing) })
        match.shards = shards
        return (match, findings)
    }

    /// One streamed pass over a model file: its SHA-256 (decompressed), and for every tensor the
    /// sidecar records, whether its bytes are the recorded base or output, and what `examine` finds.
    static func scan(_ stream: ByteStream, wanted: [String: Sidecar.Tensor], states: inout [String: AuditModelMatch.TensorState],
                     findings: inout [String: TensorFindings], path name: String) throws -> String {
        let whole = SHA256Hasher()
        stream.recording = []
        let header = try ModelHeader.parse(stream)
        if let captured = stream.recording { whole.update(captured) }
        stream.recording = nil
        try header.refuseSplit(path: name)
        for t in header.tensors {
            let start = header.dataStart + t.offset
            if start > stream.position {
                try stream.forEachChunk(start - stream.position, what: "the data before tensor '\(t.name)'") { whole.update($0) }
            }
            guard let record = wanted[t.name] else {
                try stream.forEachChunk(t.byteCount, what: "tensor '\(t.name)'") { whole.update($0) }
                continue
            }
            let found = try stream.withContiguous(t.byteCount, what: "tensor '\(t.name)'") { bytes in
                whole.update(bytes)
                let h = SHA256Hasher.hex(bytes)
                let state: AuditModelMatch.TensorState = h == record.outputSHA256 ? .edited : h == record.baseSHA256 ? .base : .neither
                return (state, try examine(bytes, info: t, record: record, state: state, path: name))
            }
            states[t.name] = found.0
            findings[t.name] = found.1
        }
        while try !stream.isAtEnd() {
            _ = try stream.readRest(limit: ByteStream.chunkSize) { whole.update($0) }
        }
        return whole.finalizeHex()
    }

    /// σ_max of a base tensor, finiteness of an output tensor.
    static func examine(_ bytes: UnsafeRawBufferPointer, info: TensorInfo, record: Sidecar.Tensor,
                        state: AuditModelMatch.TensorState, path: String) throws -> TensorFindings {
        guard state != .neither, let (rows, cols) = info.matrixShape, rows == record.rows, cols == record.cols,
              TensorCodec.canDecode(info.type) else { return TensorFindings() }
        let values = try TensorCodec.decode(bytes, as: info.type, count: info.elementCount)
        if state == .edited { return TensorFindings(finite: values.allSatisfy(\.isFinite)) }
        guard values.allSatisfy(\.isFinite) else { return TensorFindings(sigmaMax: .nan) }
        let s = try RestraintEngine.sigmaMax(weights: values, rows: rows, cols: cols, tensor: info.name).sigmaMax
        return TensorFindings(sigmaMax: s)
    }
}
