import Foundation
import PruneFormats

/// Recomputation of the recorded numbers from the stored factors, and of the restrained delta itself
/// from the recorded raw terms, σ_max(W₀) and restraint.
enum AuditChecks {
    /// How far the stored restrained factors may be from the restrained delta recomputed from the raw
    /// terms: ‖U Vᵀ − ΔW̄‖_F ≤ tolerance · ‖ΔW̄‖_F (prune-audit(1)). The factors are f32 roundings
    /// of the engine's float64 result (relative error about 1e-7); a forged edit is off by order 1.
    static let restrainedTolerance = 1e-4
    /// How far σ_max(W₀) recomputed from the base weights may be from the recorded one (relative).
    static let sigmaMaxTolerance = 1e-6

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
        var a = AuditTensor(record: t, editIndices: editIndices, recomputedBefore: before, recomputedAfter: after,
                            spectrumError: spectrumError, restraintError: restraintError,
                            recountedRestrained: parameters.restraint == "none" ? 0
                                : t.spectrumBefore.filter { $0 >= t.sigmaMax && t.sigmaMax > 0 }.count)
        a.nonFiniteParts = nonFiniteParts(t)
        if a.nonFiniteParts.isEmpty {
            do {
                a.restrainedError = try restrainedDisagreement(t, parameters: parameters)
            } catch {
                a.recomputationFailure = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            }
        } else {
            a.recomputationFailure = "non-finite values in " + a.nonFiniteParts.joined(separator: ", ")
        }
        return a
    }

    /// The parts of a record that hold NaN or ±∞ (none may).
    static func nonFiniteParts(_ t: Sidecar.Tensor) -> [String] {
        var parts: [String] = []
        for (i, term) in t.terms.enumerated() {
            switch term.delta {
            case .lowRank(let u, let v, _):
                if !u.allSatisfy(\.isFinite) || !v.allSatisfy(\.isFinite) { parts.append("raw term \(i)") }
            case .dense(let d):
                if !d.allSatisfy(\.isFinite) { parts.append("raw term \(i)") }
            }
        }
        if !t.restrained.u.allSatisfy(\.isFinite) || !t.restrained.v.allSatisfy(\.isFinite) { parts.append("the restrained factors") }
        if !t.sigmaMax.isFinite { parts.append("sigma_max") }
        if !t.spectrumBefore.allSatisfy(\.isFinite) || !t.spectrumAfter.allSatisfy(\.isFinite) { parts.append("the spectra") }
        if let k = t.kappa, !k.allSatisfy({ $0.isFinite || $0 == .infinity }) { parts.append("kappa") }
        return parts
    }

    /// The restrained delta recomputed from the recorded raw terms with the recorded σ_max(W₀),
    /// function, α and schedule (the engine prune-apply runs), against the stored factors as
    /// matrices: ‖U Vᵀ − ΔW̄‖_F / ‖ΔW̄‖_F (‖U Vᵀ‖_F when ΔW̄ = 0).
    static func restrainedDisagreement(_ t: Sidecar.Tensor, parameters: Sidecar.Parameters) throws -> Double {
        let options = try ApplyOptions(parameters: parameters)
        let deltas = try t.terms.map { try TensorEditor.delta($0, rows: t.rows, cols: t.cols, tensor: t.name) }
        let recomputed = try RestraintEngine.restrain(edits: deltas, rows: t.rows, cols: t.cols, sigmaMax: t.sigmaMax,
                                                      configuration: options.configuration, tensor: t.name).delta
        return try BLASThreads.deterministic {
            let su = try Matrix(rows: t.rows, cols: t.restrained.rank, floats: t.restrained.u)
            let sv = try Matrix(rows: t.cols, cols: t.restrained.rank, floats: t.restrained.v)
            let minus = recomputed.a.scalingColumns(by: [Double](repeating: -1, count: recomputed.rank))
            let difference = try productNorm(Matrix.hconcat(su, minus), Matrix.hconcat(sv, recomputed.b))
            let scale = try productNorm(recomputed.a, recomputed.b)
            if scale > 0 { return difference / scale }
            return difference == 0 ? 0 : .infinity
        }
    }

    /// ‖a bᵀ‖_F from the triangular factors of a and b (a = Qa Ra, b = Qb Rb: ‖a bᵀ‖ = ‖Ra Rbᵀ‖).
    static func productNorm(_ a: Matrix, _ b: Matrix) throws -> Double {
        guard a.cols > 0, a.rows > 0, b.rows > 0 else { return 0 }
        let ra = try a.qr().r, rb = try b.qr().r
        return Matrix.gemm(ra, rb, transposeB: true).frobeniusNorm
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

