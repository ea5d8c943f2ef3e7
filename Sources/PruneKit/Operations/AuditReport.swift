import PruneFormats
/// What `prune-audit SIDECAR [MODEL]` established.
public struct AuditReport: Sendable {
    public var sidecarPath: String
    public var sidecar: Sidecar
    public var integrity: AuditIntegrity
    public var tensors: [AuditTensor]
    /// Present when a model was given.
    public var model: AuditModelMatch?

    /// "base", "edited" or "neither"; nil without a model.
    public var verdict: AuditVerdict? { model?.verdict }
}

public enum AuditVerdict: String, Sendable {
    case base, edited, neither
}

/// The sidecar's own hashes, all checked.
public struct AuditIntegrity: Sendable {
    /// Tensors (parts) of the sidecar container whose SHA-256 matched the document's `parts`.
    public var partsVerified: Int
    /// Verbatim manifests whose bytes matched their recorded SHA-256.
    public var manifestsVerified: Int
    /// Every check passed (a damaged part makes the audit fail before a report exists).
    public var ok: Bool { true }
}

/// One edited tensor as the sidecar records it, with what the audit recomputed from its factors.
public struct AuditTensor: Sendable {
    public var record: Sidecar.Tensor
    /// Indices (into `Sidecar.edits`) of the edits that touched this tensor.
    public var editIndices: [Int]
    /// Singular values recomputed from the stored raw terms and restrained factors.
    public var recomputedBefore: [Double]
    public var recomputedAfter: [Double]
    /// Largest disagreement, relative to the largest value, between recorded and recomputed spectra.
    public var spectrumError: Double
    /// For schedule `end`: the largest disagreement between the recorded restrained spectrum and the
    /// restraint function applied to the recorded raw spectrum (relative); nil when not checkable.
    public var restraintError: Double?
    /// Number of raw singular values ≥ σ_max(W₀), recounted.
    public var recountedRestrained: Int

    /// ‖ΔW̄‖₂ / ‖W₀‖₂: the top restrained singular value over σ_max(W₀).
    public var relativePerturbation: Double? {
        guard record.sigmaMax > 0, let top = record.spectrumAfter.first else { return nil }
        return top / record.sigmaMax
    }

    /// The recorded numbers agree with what the factors give (spectra to 1e-5, restraint to 1e-5,
    /// the restrained count exactly).
    public var consistent: Bool {
        spectrumError <= 1e-5 && (restraintError ?? 0) <= 1e-5
            && recountedRestrained == record.componentsRestrained
    }
}

/// How a model file relates to the sidecar.
public struct AuditModelMatch: Sendable {
    public enum TensorState: String, Sendable { case base, edited, neither, missing }
    public var path: String
    public var sha256: String
    public var verdict: AuditVerdict
    /// Per edited tensor (sidecar order): which side its bytes match.
    public var tensors: [(name: String, state: TensorState)]
}
