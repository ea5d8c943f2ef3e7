import Foundation
import PruneFormats

/// `prune-audit SIDECAR [MODEL]`: checks a sidecar without trusting whoever wrote it.
///
/// - Integrity: `Sidecar.read` checks the document hash and every part against `parts`; the audit
///   also re-hashes each verbatim manifest.
/// - Consistency: the singular values of the stored raw terms and restrained factors are
///   recomputed and compared with the recorded spectra; for schedule `end` the restraint function
///   is re-applied to the recorded raw spectrum.
/// - The restrained delta itself: recomputed from the raw terms with the recorded σ_max(W₀),
///   function, α and schedule, and compared with the stored factors as matrices.
/// - With a model: one streamed pass hashes the whole file (decompressed) and each edited tensor,
///   and says whether it is the base, the edited output, or neither; base tensors give σ_max(W₀),
///   output tensors are checked for non-finite values.
/// - With the base (`base`): the sidecar is replayed on it without writing, and every materialised
///   tensor must be the recorded output tensor.
/// - With an adapter in place of the model (a PEFT folder or a llama.cpp .gguf adapter): every pair,
///   as the engine applies it, must be the sidecar's restrained delta within f32 rounding
///   (`AdapterAudit`); `base` then names and orients the tensors, as prune-adapter's --base.
public enum SidecarAudit {
    /// - Parameters:
    ///   - model: a model to identify (base, output or neither); a base gives σ_max(W₀) from its
    ///     weights, an output is checked for non-finite values.
    ///   - base: the base model, to replay the sidecar on it and check the outputs byte for byte.
    public static func run(sidecar path: String, model: String? = nil, base: String? = nil,
                           threads: Int = 0) throws -> AuditReport {
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
        var match: AuditModelMatch?
        var adapter: AdapterAudit?
        if let model, let format = AdapterAudit.format(of: model) {
            // An adapter in place of the model: --base names and orients its tensors (no replay).
            adapter = try AdapterAudit.run(adapter: model, format: format, sidecar: sidecar, sidecarPath: path, base: base)
        } else if let model {
            let (m, findings) = try AuditModelMatcher.match(model: model, sidecar: sidecar)
            match = m
            for i in tensors.indices {
                guard let f = findings[tensors[i].record.name] else { continue }
                if let s = f.sigmaMax { tensors[i].sigmaMaxFromWeights = s }
                if let ok = f.finite { tensors[i].outputFinite = ok }
            }
        }
        var replay: AuditBaseReplay?
        if let base, adapter == nil {
            let threadCount = ThreadCount.resolved(threads)
            let r = try AuditBaseReplay.run(base: base, sidecar: sidecar, sidecarPath: path, threads: threadCount)
            replay = r
            for i in tensors.indices {
                guard let t = r.tensors.first(where: { $0.name == tensors[i].record.name }) else { continue }
                if let s = t.sigmaMax { tensors[i].sigmaMaxFromWeights = s }
                if !t.baseMatches { tensors[i].materialised = false }
                if let m = t.materialised { tensors[i].materialised = m }
                if let f = t.finite, tensors[i].outputFinite != false { tensors[i].outputFinite = f }
            }
        }
        return AuditReport(sidecarPath: path, sidecar: sidecar,
                           integrity: AuditIntegrity(partsVerified: parts, manifestsVerified: manifests),
                           tensors: tensors, model: match, base: replay, adapter: adapter)
    }
}

