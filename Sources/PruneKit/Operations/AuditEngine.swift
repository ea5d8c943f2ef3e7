import Foundation
import PruneFormats

/// `prune-audit SIDECAR [MODEL]`: checks a sidecar without trusting whoever wrote it.
///
/// - Integrity: `Sidecar.read` checks the document hash and every part against `parts`; the audit
///   also re-hashes each verbatim manifest.
/// - Consistency: the singular values of the stored raw terms and restrained factors are
///   recomputed and compared with the recorded spectra; for schedule `end` the restraint function
///   is re-applied to the recorded raw spectrum.
/// - With a model: one streamed pass hashes the whole file (decompressed) and each edited tensor,
///   and says whether it is the base, the edited output, or neither.
public enum SidecarAudit {
    public static func run(sidecar path: String, model: String? = nil) throws -> AuditReport {
        let sidecar = try Sidecar.read(path: path)
        let parts = try ModelFile(path: path).tensors.count
        var manifests = 0
        for (i, m) in sidecar.manifests.enumerated() {
            guard SHA256Hasher.hex(m.bytes) == m.sha256 else {
                throw AuditError.manifestHashMismatch(path: path, manifest: i, name: m.name)
            }
            manifests += 1
        }
        var tensors: [AuditTensor] = []
        for t in sidecar.tensors {
            tensors.append(try AuditChecks.check(t, parameters: sidecar.parameters, edits: sidecar.edits, path: path))
        }
        let match = try model.map { try AuditModelMatcher.match(model: $0, sidecar: sidecar) }
        return AuditReport(sidecarPath: path, sidecar: sidecar,
                           integrity: AuditIntegrity(partsVerified: parts, manifestsVerified: manifests),
                           tensors: tensors, model: match)
    }
}

/// Recomputation of the recorded numbers from the stored factors.
enum AuditChecks {
    static func check(_ t: Sidecar.Tensor, parameters: Sidecar.Parameters, edits: [Sidecar.Edit],
                      path: String) throws -> AuditTensor {
        let before: [Double]
        let after: [Double]
        do {
            before = try singularValues(of: t.terms.map(\.delta), rows: t.rows, cols: t.cols)
            after = t.restrained.rank == 0 ? [] : try singularValues(
                of: [.lowRank(u: t.restrained.u, v: t.restrained.v, rank: t.restrained.rank)], rows: t.rows, cols: t.cols)
        } catch {
            throw AuditError.numerics(path: path, tensor: t.name,
                                      reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        let spectrumError = max(disagreement(t.spectrumBefore, before), disagreement(t.spectrumAfter, after))
        var restraintError: Double?
        if parameters.schedule == "end", let f = restraintFunction(parameters) {
            let expected = t.spectrumBefore.map { $0 >= t.sigmaMax ? f($0, t.sigmaMax) : $0 }.sorted(by: >)
            restraintError = disagreement(t.spectrumAfter, expected)
        }
        let editIndices = edits.indices.filter { edits[$0].tensors.contains(t.name) }
        return AuditTensor(record: t, editIndices: editIndices, recomputedBefore: before, recomputedAfter: after,
                           spectrumError: spectrumError, restraintError: restraintError,
                           recountedRestrained: parameters.restraint == "none" ? 0
                               : t.spectrumBefore.filter { $0 >= t.sigmaMax && t.sigmaMax > 0 }.count)
    }

    /// The restraint of the PRUNE paper, written out independently of the engine:
    /// log: F(σ) = log_α σ − log_α σ_max + σ_max; linear: (σ + σ_max)/2; none: σ.
    static func restraintFunction(_ p: Sidecar.Parameters) -> ((Double, Double) -> Double)? {
        switch p.restraint {
        case "log":
            let la = Foundation.log(p.alpha)
            guard la > 0 else { return nil }
            return { s, m in Foundation.log(s) / la - Foundation.log(m) / la + m }
        case "linear": return { s, m in (s + m) / 2 }
        case "none": return { s, _ in s }
        default: return nil
        }
    }

    /// max |a_i − b_i| / max(a_0, b_0) over the common prefix; values beyond it must be negligible.
    static func disagreement(_ recorded: [Double], _ computed: [Double]) -> Double {
        let scale = max(recorded.first ?? 0, computed.first ?? 0)
        guard scale > 0 else { return 0 }
        var worst = 0.0
        for i in 0..<max(recorded.count, computed.count) {
            let a = i < recorded.count ? recorded[i] : 0
            let b = i < computed.count ? computed[i] : 0
            worst = max(worst, abs(a - b) / scale)
        }
        return worst
    }

    /// Singular values of Σ deltas: low-rank terms through QR of the stacked factors, a dense
    /// term (if any) through the full matrix.
    static func singularValues(of deltas: [Sidecar.Delta], rows: Int, cols: Int) throws -> [Double] {
        var us: [Matrix] = [], vs: [Matrix] = []
        var dense: Matrix?
        for d in deltas {
            switch d {
            case .lowRank(let u, let v, let k):
                us.append(try Matrix(rows: rows, cols: k, floats: u))
                vs.append(try Matrix(rows: cols, cols: k, floats: v))
            case .dense(let values):
                let m = try Matrix(rows: rows, cols: cols, floats: values)
                dense = dense.map { $0 + m } ?? m
            }
        }
        if var dense {
            for (u, v) in zip(us, vs) { dense = dense + Matrix.gemm(u, v, transposeB: true) }
            return try dense.singularValues()
        }
        guard var u = us.first, var v = vs.first else { return [] }
        for (a, b) in zip(us.dropFirst(), vs.dropFirst()) {
            u = Matrix.hconcat(u, a)
            v = Matrix.hconcat(v, b)
        }
        let ru = try u.qr().r, rv = try v.qr().r
        return try Matrix.gemm(ru, rv, transposeB: true).singularValues()
    }
}

/// Hashes a model in one streamed pass and compares it with the sidecar's hashes.
enum AuditModelMatcher {
    static func match(model path: String, sidecar: Sidecar) throws -> AuditModelMatch {
        let stream = try ModelInput.open(path, releaseBehind: true)
        let whole = SHA256Hasher()
        stream.recording = []
        let header = try ModelHeader.parse(stream)
        try header.refuseSplit(path: stream.name)
        if let captured = stream.recording { whole.update(captured) }
        stream.recording = nil
        let wanted = Dictionary(sidecar.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var states: [String: AuditModelMatch.TensorState] = [:]
        for t in header.tensors {
            let start = header.dataStart + t.offset
            if start > stream.position {
                try stream.forEachChunk(start - stream.position, what: "the data before tensor '\(t.name)'") { whole.update($0) }
            }
            let own = wanted[t.name] != nil ? SHA256Hasher() : nil
            try stream.forEachChunk(t.byteCount, what: "tensor '\(t.name)'") { chunk in
                whole.update(chunk)
                own?.update(chunk)
            }
            if let own, let record = wanted[t.name] {
                let h = own.finalizeHex()
                states[t.name] = h == record.outputSHA256 ? .edited : h == record.baseSHA256 ? .base : .neither
            }
        }
        while try !stream.isAtEnd() {
            _ = try stream.readRest(limit: ByteStream.chunkSize) { whole.update($0) }
        }
        let sha = whole.finalizeHex()
        let verdict: AuditVerdict = sha == sidecar.model.outputSHA256 ? .edited
            : sha == sidecar.model.baseSHA256 ? .base : .neither
        return AuditModelMatch(path: path, sha256: sha, verdict: verdict,
                               tensors: sidecar.tensors.map { ($0.name, states[$0.name] ?? .missing) })
    }
}
