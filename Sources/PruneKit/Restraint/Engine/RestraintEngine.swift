import Foundation
import PruneFormats

/// The PRUNE restraint on the accumulated delta of one tensor.
///
/// Reference algorithm (mjy1111/PRUNE): SVD ΔW = UΣVᵀ; r = matrix_rank(ΔW) (σ > σ₁·max(m,n)·ε);
/// every σᵢ ≥ σ_max(W₀) among the first r becomes F(σᵢ); result W₀ + U_r F(Σ_r) V_rᵀ.
///
/// Fast path: the accumulated delta is kept as concatenated factors a·bᵀ (rank k) and its SVD is
/// computed from QR(a), QR(b) and the SVD of the k × k core — O((m+n)k²) instead of O(mn·min(m,n)).
/// When k·(m+n) ≥ m·n, or a dense edit is present, a thin dense SVD is used instead.
/// σ_max(W₀) is an input: compute it once with `sigmaMax(weights:rows:cols:)` and store it.
///
/// Orientation: inputs with rows < cols are transposed internally and the result transposed back,
/// so a weight stored [in, out] gives exactly the transpose of the answer for [out, in]
/// (bit-identical for non-square shapes; square shapes agree to rounding).
public enum RestraintEngine {
    /// σ_max(W₀) of f32 row-major weights (rows × cols), with its error bound.
    public static func sigmaMax(weights: [Float], rows: Int, cols: Int, tensor: String = "<matrix>",
                                options: SpectralNormOptions = SpectralNormOptions()) throws -> SpectralNormEstimate {
        try SpectralNorm.estimate(weights: weights, rows: rows, cols: cols, tensor: tensor, options: options)
    }

    /// Runs `configuration.schedule` over a sequence of edits on one rows × cols tensor.
    ///
    /// - `initialState`: for `each`, continues a previous run from its `RestraintResult.delta`
    ///   (store those factors in float64: continuing from them is bit-identical to one run over all
    ///   edits). For `end`, it is treated as a leading raw edit; to continue an `end` sequence exactly,
    ///   rebuild its `DeltaAccumulator` from the stored raw record and use `restrain(accumulated:…)`.
    /// - `sigmaMax`: σ_max(W₀) of the ORIGINAL weights (see `sigmaMax(weights:rows:cols:)`); it may be
    ///   any value for `RestraintFunction.none`.
    /// - Set `result.report.conditionNumbers` with `conditionNumbers(…)` when κ is wanted (slow).
    public static func restrain(edits: [Delta], rows: Int, cols: Int, sigmaMax: Double,
                                configuration: RestraintConfiguration, initialState: LowRankDelta? = nil,
                                tensor: String = "<matrix>") throws -> RestraintResult {
        try BLASThreads.deterministic {
            try restrainAnyOrientation(edits: edits, rows: rows, cols: cols, sigmaMax: sigmaMax,
                                       configuration: configuration, initialState: initialState, tensor: tensor)
        }
    }

    static func restrainAnyOrientation(edits: [Delta], rows: Int, cols: Int, sigmaMax: Double,
                                       configuration: RestraintConfiguration, initialState: LowRankDelta?,
                                       tensor: String) throws -> RestraintResult {
        try validate(rows: rows, cols: cols, sigmaMax: sigmaMax, function: configuration.function, tensor: tensor)
        if rows < cols {
            let r = try restrainAnyOrientation(edits: edits.map { $0.transposed() }, rows: cols, cols: rows, sigmaMax: sigmaMax,
                                 configuration: configuration, initialState: initialState?.transposed(), tensor: tensor)
            return transposedBack(r)
        }
        switch configuration.schedule {
        case .end:
            var acc = DeltaAccumulator(rows: rows, cols: cols)
            if let s = initialState { try acc.append(.lowRank(s), tensor: tensor) }
            for e in edits { try acc.append(e, tensor: tensor) }
            return try restrainCanonical(acc, sigmaMax: sigmaMax, configuration: configuration, tensor: tensor)
        case .each:
            return try restrainEach(edits: edits, rows: rows, cols: cols, sigmaMax: sigmaMax,
                                    configuration: configuration, initialState: initialState, tensor: tensor)
        }
    }

    /// The `end` schedule on an accumulated record (e.g. a sidecar's raw factors plus new edits).
    public static func restrain(accumulated: DeltaAccumulator, sigmaMax: Double, configuration: RestraintConfiguration,
                                tensor: String = "<matrix>") throws -> RestraintResult {
        try BLASThreads.deterministic {
            try restrainRecord(accumulated: accumulated, sigmaMax: sigmaMax, configuration: configuration, tensor: tensor)
        }
    }

    static func restrainRecord(accumulated: DeltaAccumulator, sigmaMax: Double, configuration: RestraintConfiguration,
                               tensor: String) throws -> RestraintResult {
        try validate(rows: accumulated.rows, cols: accumulated.cols, sigmaMax: sigmaMax,
                     function: configuration.function, tensor: tensor)
        if accumulated.rows < accumulated.cols {
            let t = try DeltaAccumulator(rows: accumulated.cols, cols: accumulated.rows,
                                         rawLowRank: accumulated.rawLowRank.transposed(),
                                         denseSum: accumulated.denseSum?.transposed(), edits: accumulated.edits,
                                         tensor: tensor)
            return transposedBack(try restrainCanonical(t, sigmaMax: sigmaMax, configuration: configuration, tensor: tensor))
        }
        return try restrainCanonical(accumulated, sigmaMax: sigmaMax, configuration: configuration, tensor: tensor)
    }

    /// κ(W₀), κ(W₀+ΔW), κ(W₀+ΔW̄) with full singular-value decompositions (slow; timed).
    public static func conditionNumbers(w0: [Float], rows: Int, cols: Int, accumulated: DeltaAccumulator,
                                        restrained: LowRankDelta, tensor: String = "<matrix>") throws -> ConditionNumbers {
        let start = DispatchTime.now().uptimeNanoseconds
        let w = try Matrix(rows: rows, cols: cols, floats: w0)
        guard accumulated.rows == rows, accumulated.cols == cols, restrained.rows == rows, restrained.cols == cols else {
            throw RestraintError.deltaShapeMismatch(tensor: tensor, edit: 0, rows: accumulated.rows, cols: accumulated.cols,
                                                    expectedRows: rows, expectedCols: cols)
        }
        func kappa(_ m: Matrix) throws -> Double {
            let s = try SpectralNorm.withTensor(tensor) { try m.singularValues() }
            guard let hi = s.first, let lo = s.last else { return .nan }
            return lo > 0 ? hi / lo : .infinity
        }
        let (k0, k1, k2) = try BLASThreads.deterministic {
            (try kappa(w), try kappa(w + accumulated.dense()), try kappa(w + restrained.dense()))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ConditionNumbers(kappaW0: k0, kappaEdited: k1, kappaRestrained: k2, seconds: seconds)
    }

    // MARK: - internals

    static func validate(rows: Int, cols: Int, sigmaMax: Double, function: RestraintFunction, tensor: String) throws {
        guard rows > 0, cols > 0, lapackDimension(rows) != nil, lapackDimension(cols) != nil,
              !rows.multipliedReportingOverflow(by: cols).overflow else {
            throw RestraintError.invalidDimensions(tensor: tensor, rows: rows, cols: cols)
        }
        if function != .none, !(sigmaMax.isFinite && sigmaMax > 0) {
            throw RestraintError.invalidSigmaMax(tensor: tensor, value: sigmaMax)
        }
    }

    static func transposedBack(_ r: RestraintResult) -> RestraintResult {
        var report = r.report
        swap(&report.rows, &report.cols)
        return RestraintResult(delta: r.delta.transposed(), report: report)
    }

    /// An SVD ΔW = U diag(s) Vᵀ of an accumulated delta (k = number of computed components).
    struct Decomposition {
        var u: Matrix
        var s: [Double]
        var v: Matrix
        var path: String
    }

    static func decompose(_ acc: DeltaAccumulator, tensor: String) throws -> Decomposition {
        try SpectralNorm.withTensor(tensor) {
            if !acc.usesDensePath {
                let (u, s, v) = try acc.rawLowRank.compactSVD()
                return Decomposition(u: u, s: s, v: v, path: "low-rank")
            }
            let svd = try acc.dense().svd(.thin)
            return Decomposition(u: svd.u, s: svd.s, v: svd.vt.transposed(), path: "dense")
        }
    }

    struct Step {
        var delta: LowRankDelta
        var rank: Int
        var tolerance: Double
        var restrained: Int
        var sAfter: [Double]
    }

    /// Keeps the first r = numerical-rank components and applies F to those with σ ≥ σ_max.
    static func restrainDecomposition(_ d: Decomposition, rows: Int, cols: Int, sigmaMax: Double,
                                      configuration: RestraintConfiguration) -> Step {
        let eps = configuration.rankEpsilon.value
        let tol = NumericalRank.tolerance(singularValues: d.s, rows: rows, cols: cols, epsilon: eps)
        let r = NumericalRank.rank(singularValues: d.s, rows: rows, cols: cols, epsilon: eps)
        var after = Array(d.s[0..<r])
        var count = 0
        if configuration.function != .none {
            for i in 0..<r where after[i] >= sigmaMax {
                after[i] = configuration.function.apply(after[i], sigmaMax: sigmaMax)
                count += 1
            }
        }
        let delta = LowRankDelta(unchecked: d.u.columns(0..<r).scalingColumns(by: after), b: d.v.columns(0..<r))
        return Step(delta: delta, rank: r, tolerance: tol, restrained: count, sAfter: after)
    }

    static func restrainCanonical(_ acc: DeltaAccumulator, sigmaMax: Double, configuration: RestraintConfiguration,
                                  tensor: String) throws -> RestraintResult {
        let d = try decompose(acc, tensor: tensor)
        let step = restrainDecomposition(d, rows: acc.rows, cols: acc.cols, sigmaMax: sigmaMax, configuration: configuration)
        let n = configuration.reportCount
        let report = RestraintReport(
            tensor: tensor, rows: acc.rows, cols: acc.cols, function: configuration.function.name,
            schedule: RestraintSchedule.end.rawValue, edits: acc.edits, sigmaMaxW0: sigmaMax, path: d.path,
            numericalRank: step.rank, rankTolerance: step.tolerance, restrainedCount: step.restrained,
            restrainedPerStep: [step.restrained], topSigmaBefore: Array(d.s.prefix(n)),
            topSigmaAfter: Array(step.sAfter.prefix(n)), conditionNumbers: nil)
        return RestraintResult(delta: step.delta, report: report)
    }

    static func restrainEach(edits: [Delta], rows: Int, cols: Int, sigmaMax: Double,
                             configuration: RestraintConfiguration, initialState: LowRankDelta?,
                             tensor: String) throws -> RestraintResult {
        var state = initialState ?? LowRankDelta.zero(rows: rows, cols: cols)
        var total = DeltaAccumulator(rows: rows, cols: cols)
        var perStep: [Int] = []
        var last: Step?
        var lastPath = "low-rank"
        for e in edits {
            try total.append(e, tensor: tensor)
            // Accumulated delta at this step: restrained state of the previous step + the new edit.
            var acc = DeltaAccumulator(rows: rows, cols: cols)
            try acc.append(.lowRank(state), tensor: tensor)
            try acc.append(e, tensor: tensor)
            let d = try decompose(acc, tensor: tensor)
            let step = restrainDecomposition(d, rows: rows, cols: cols, sigmaMax: sigmaMax, configuration: configuration)
            state = step.delta
            perStep.append(step.restrained)
            last = step
            lastPath = d.path
        }
        let n = configuration.reportCount
        let before = edits.isEmpty ? [] : try decompose(total, tensor: tensor).s
        let report = RestraintReport(
            tensor: tensor, rows: rows, cols: cols, function: configuration.function.name,
            schedule: RestraintSchedule.each.rawValue, edits: edits.count, sigmaMaxW0: sigmaMax, path: lastPath,
            numericalRank: last?.rank ?? state.rank, rankTolerance: last?.tolerance ?? 0,
            restrainedCount: last?.restrained ?? 0, restrainedPerStep: perStep,
            topSigmaBefore: Array(before.prefix(n)), topSigmaAfter: Array((last?.sAfter ?? []).prefix(n)),
            conditionNumbers: nil)
        return RestraintResult(delta: state, report: report)
    }
}
