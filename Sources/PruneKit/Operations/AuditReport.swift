import Foundation
import PruneFormats
/// What `prune-audit SIDECAR [MODEL]` established.
public struct AuditReport: Sendable {
    public var sidecarPath: String
    public var sidecar: Sidecar
    public var integrity: AuditIntegrity
    public var tensors: [AuditTensor]
    /// Present when a model was given.
    public var model: AuditModelMatch?
    /// Present when the base was given (`--base`): the replay of the sidecar on it.
    public var base: AuditBaseReplay?
    /// Present when an adapter was given in place of the model.
    public var adapter: AdapterAudit?

    /// "base", "edited" or "neither"; nil without a model.
    public var verdict: AuditVerdict? { model?.verdict }

    /// Every check passed: integrity, the recorded numbers, the restrained deltas, and what the
    /// models given could confirm.
    public var sound: Bool {
        tensors.allSatisfy(\.consistent) && (base?.problems.isEmpty ?? true) && (adapter?.problems.isEmpty ?? true)
    }

    /// What this audit established by itself and found to hold, one phrase each (what failed is in
    /// `problems`).
    public var verified: [String] {
        var v = ["integrity: the SHA-256 of every part and manifest copy"]
        if tensors.allSatisfy({ $0.spectrumError <= 1e-5 && ($0.restraintError ?? 0) <= 1e-5
                                && $0.recountedRestrained == $0.record.componentsRestrained }) {
            v.append("spectra and restrained counts: recomputed from the stored factors")
        }
        if !tensors.isEmpty, tensors.allSatisfy({ ($0.restrainedError ?? .infinity) <= AuditChecks.restrainedTolerance }) {
            // An order of magnitude only: the exact value is rounding noise that varies with the BLAS
            // kernels of the machine (it is in the JSON report).
            let worst = tensors.compactMap(\.restrainedError).max() ?? 0
            let bound = worst > 0 ? "below 1e\(Int(Foundation.log10(worst).rounded(.up)))" : "0"
            v.append("restrained deltas: recomputed from the raw terms, σ_max(W₀) and restraint, they match the stored factors (relative difference \(bound), at most 1e-4)")
        }
        if !tensors.isEmpty, tensors.allSatisfy({ $0.sigmaMaxAgrees == true }) {
            v.append("σ_max(W₀): recomputed from the base weights")
        }
        if let m = model {
            switch m.verdict {
            case .base: v.append("model: its SHA-256 is the recorded base hash")
            case .edited: v.append("model: its SHA-256 is the recorded output hash")
            case .neither: v.append("model: its SHA-256 is neither recorded hash")
            }
        }
        let seen = tensors.compactMap(\.outputFinite)
        if !seen.isEmpty, seen.allSatisfy({ $0 }) {
            v.append("output tensors: no NaN or infinity")
        }
        if let a = adapter, a.problems.isEmpty {
            v.append("adapter: each of its \(a.pairs.count) pairs, scaled as the engine scales it, is the restrained delta within f32 rounding, and it adapts no other weight")
        }
        if let b = base, b.isRecordedBase, b.matchesRecordedOutput, tensors.allSatisfy({ $0.materialised == true }) {
            v.append("output bytes: the base plus the stored restrained deltas, materialised as replay does, give the recorded output tensors and hash")
        }
        return v
    }

    /// What this audit took from the sidecar without being able to check it, one phrase each.
    public var unverified: [String] {
        var u = ["raw terms: the manifest's value files are not in the sidecar"]
        if tensors.contains(where: { $0.sigmaMaxFromWeights == nil }) {
            u.append("σ_max(W₀): give the base as MODEL or --base BASE")
        }
        if !tensors.isEmpty, !tensors.allSatisfy({ $0.materialised == true }) {
            u.append("output bytes = base + restrained deltas: give --base BASE")
        }
        if model == nil && base == nil && adapter == nil {
            u.append("the base and output hashes: give a model")
        }
        return u
    }

    /// One line per failed check, naming the tensor or the file.
    public var problems: [String] {
        tensors.flatMap { t in t.problems.map { "\($0) (tensor \(t.record.name))" } } + (base?.problems ?? [])
            + (adapter?.problems ?? [])
    }
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
    /// ‖U Vᵀ − ΔW̄‖_F / ‖ΔW̄‖_F between the stored restrained factors and the restrained delta
    /// recomputed from the recorded raw terms, σ_max(W₀), function, α and schedule; nil when it could
    /// not be recomputed (`recomputationFailure` says why).
    public var restrainedError: Double?
    public var recomputationFailure: String?
    /// Parts of the record holding NaN or ±∞.
    public var nonFiniteParts: [String] = []
    /// σ_max(W₀) recomputed from the base weights (MODEL when it is the base, or --base); nil when no
    /// base was given.
    public var sigmaMaxFromWeights: Double?
    /// Whether the base tensor plus the stored restrained delta, materialised as replay does, gives
    /// the recorded output tensor (nil: no base given, or its tensor is not the recorded base).
    public var materialised: Bool?
    /// Whether the output tensor (MODEL when it is the output, or the materialised one) is free of
    /// NaN and ±∞ (nil: not seen).
    public var outputFinite: Bool?

    /// ‖ΔW̄‖₂ / ‖W₀‖₂: the top restrained singular value over σ_max(W₀).
    public var relativePerturbation: Double? {
        guard record.sigmaMax > 0, let top = record.spectrumAfter.first else { return nil }
        return top / record.sigmaMax
    }

    /// init with the checks every audit makes (the others are filled in as models allow).
    init(record: Sidecar.Tensor, editIndices: [Int], recomputedBefore: [Double], recomputedAfter: [Double],
         spectrumError: Double, restraintError: Double?, recountedRestrained: Int) {
        self.record = record
        self.editIndices = editIndices
        self.recomputedBefore = recomputedBefore
        self.recomputedAfter = recomputedAfter
        self.spectrumError = spectrumError
        self.restraintError = restraintError
        self.recountedRestrained = recountedRestrained
    }

    /// Whether the recomputed σ_max(W₀) agrees with the recorded one (nil: no base weights seen).
    public var sigmaMaxAgrees: Bool? {
        sigmaMaxFromWeights.map { abs($0 - record.sigmaMax) <= AuditChecks.sigmaMaxTolerance * max(abs($0), .leastNormalMagnitude) }
    }

    /// What does not hold, one phrase each (empty when everything checked agrees).
    public var problems: [String] {
        var p: [String] = []
        if !nonFiniteParts.isEmpty { p.append("non-finite values in " + nonFiniteParts.joined(separator: ", ")) }
        if let r = restrainedError {
            if !(r <= AuditChecks.restrainedTolerance) {
                p.append("the stored restrained delta is not what the recorded raw terms, σ_max(W₀) and restraint give (relative difference \(DiffText.format(r)) > \(DiffText.format(AuditChecks.restrainedTolerance)))")
            }
        } else if nonFiniteParts.isEmpty {
            p.append("the restrained delta cannot be recomputed: \(recomputationFailure ?? "unknown reason")")
        }
        if !(spectrumError <= 1e-5) { p.append("the recorded spectra are not those of the stored factors (relative difference \(DiffText.format(spectrumError)))") }
        if let e = restraintError, !(e <= 1e-5) { p.append("the recorded restrained spectrum is not the restraint of the raw one (relative difference \(DiffText.format(e)))") }
        if recountedRestrained != record.componentsRestrained {
            p.append("\(record.componentsRestrained) components recorded as restrained, \(recountedRestrained) recounted")
        }
        if sigmaMaxAgrees == false, let s = sigmaMaxFromWeights {
            p.append("σ_max(W₀) is \(DiffText.format(s)) in the base weights, the sidecar records \(DiffText.format(record.sigmaMax))")
        }
        if materialised == false { p.append("the base tensor plus the stored restrained delta does not give the recorded output tensor") }
        if outputFinite == false { p.append("the output tensor holds NaN or infinite values") }
        return p
    }

    /// Everything checked agrees: spectra to 1e-5, restraint to 1e-5, the restrained count exactly,
    /// the stored restrained delta within `AuditChecks.restrainedTolerance` of the recomputed one,
    /// every stored number finite, and what the models given could confirm.
    public var consistent: Bool { problems.isEmpty }
}

/// How a model file relates to the sidecar.
public struct AuditModelMatch: Sendable {
    public enum TensorState: String, Sendable { case base, edited, neither, missing }
    public var path: String
    public var sha256: String
    public var verdict: AuditVerdict
    /// Per edited tensor (sidecar order): which side its bytes match.
    public var tensors: [(name: String, state: TensorState)]
    /// For a sharded checkpoint folder: each shard (name order, then recorded shards the folder
    /// lacks) with the SHA-256 of its bytes (decompressed) and which recorded hash it matches
    /// (`base` first: an untouched shard's two hashes are equal; `missing`: the sidecar records no
    /// such shard, or the folder lacks it). `sha256` is then the
    /// folder digest (`Sidecar.Checkpoint.digest`). nil for a single file.
    public var shards: [Shard]?

    public struct Shard: Sendable {
        public var name: String
        public var file: String
        public var sha256: String
        public var state: TensorState
        /// The sidecar records the same hash for it before and after (a shard no edit touched).
        public var untouched = false
    }

    init(path: String, sha256: String, verdict: AuditVerdict, tensors: [(name: String, state: TensorState)]) {
        self.path = path
        self.sha256 = sha256
        self.verdict = verdict
        self.tensors = tensors
    }
}
