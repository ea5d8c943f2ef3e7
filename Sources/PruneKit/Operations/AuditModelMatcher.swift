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
        let stream = try ModelInput.open(path, releaseBehind: true)
        let name = displayName(path)
        let whole = SHA256Hasher()
        stream.recording = []
        let header = try ModelHeader.parse(stream)
        if let captured = stream.recording { whole.update(captured) }
        stream.recording = nil
        let wanted = Dictionary(sidecar.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var states: [String: AuditModelMatch.TensorState] = [:]
        var findings: [String: TensorFindings] = [:]
        for t in header.tensors {
            let start = header.dataStart + t.offset
            if start > stream.position {
                try stream.forEachChunk(start - stream.position, what: "the data before tensor '\(t.name)'") { whole.update($0) }
            }
            guard let record = wanted[t.name] else {
                try stream.forEachChunk(t.byteCount, what: "tensor '\(t.name)'") { whole.update($0) }
                continue
            }
            try stream.withContiguous(t.byteCount, what: "tensor '\(t.name)'") { bytes in
                whole.update(bytes)
                let h = SHA256Hasher.hex(bytes)
                let state: AuditModelMatch.TensorState = h == record.outputSHA256 ? .edited : h == record.baseSHA256 ? .base : .neither
                states[t.name] = state
                findings[t.name] = try examine(bytes, info: t, record: record, state: state, path: name)
            }
        }
        while try !stream.isAtEnd() {
            _ = try stream.readRest(limit: ByteStream.chunkSize) { whole.update($0) }
        }
        let sha = whole.finalizeHex()
        let verdict: AuditVerdict = sha == sidecar.model.outputSHA256 ? .edited
            : sha == sidecar.model.baseSHA256 ? .base : .neither
        let match = AuditModelMatch(path: path, sha256: sha, verdict: verdict,
                                    tensors: sidecar.tensors.map { ($0.name, states[$0.name] ?? .missing) })
        return (match, findings)
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
