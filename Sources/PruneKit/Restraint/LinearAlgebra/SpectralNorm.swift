import CBLAS
import Foundation
import PruneFormats

/// σ_max of a weight matrix, with an a-posteriori error bound.
public struct SpectralNormEstimate: Sendable, Equatable, Codable {
    /// The estimate of the largest singular value (a Ritz value: never above the true σ₁).
    public let sigmaMax: Double
    /// An absolute bound: some singular value of W lies within `errorBound` of `sigmaMax`.
    public let errorBound: Double
    /// The second Ritz value (an estimate of σ₂; 0 when not available).
    public let secondSigma: Double
    /// Passes over W (each pass computes W·X and Wᵀ·(W·X) for one block).
    public let passes: Int
    /// "block-krylov" or "dense-svd" (tiny matrices).
    public let method: String
}

/// Tuning of the σ_max iteration. The defaults prove a 1e-8 relative bound (contract: 1e-6).
public struct SpectralNormOptions: Sendable {
    /// Block width b (≥ 2 makes clusters σ₁ ≈ σ₂ converge at the rate of the gap to σ_{b+1}).
    public var blockSize: Int = 4
    /// Upper bound on the passes over W before giving up with `RestraintError.notConverged`.
    public var maxPasses: Int = 400
    /// Stop when the error bound is ≤ relativeTolerance · σ_max.
    public var relativeTolerance: Double = 1e-8
    /// Seed of the deterministic start block.
    public var seed: UInt64 = 0x5052_554E_4553_4947
    public init() {}
}

/// The largest singular value of a dense f32 row-major matrix, computed by a block Krylov
/// method with Rayleigh–Ritz and a residual-based convergence test.
///
/// Method: Krylov blocks of WᵀW are built from a seeded random start block, fully re-orthogonalised
/// (classical Gram–Schmidt twice, then Householder QR). After each block, Rayleigh–Ritz on the
/// basis Q gives Ritz values σ(W·Q) ≤ σ₁ and the top Ritz pair (u, v) with W v = σ u exactly;
/// the residual r = Wᵀu − σ v bounds the error: some singular value lies within ‖r‖, and within
/// ‖r‖²/gap once ‖r‖ ≤ gap/2 (gap = σ̂₁ − σ̂₂ from the Ritz values). The iteration stops when the
/// bound is ≤ `relativeTolerance`·σ. Because whole blocks are used, a cluster σ₁ ≈ σ₂ converges as
/// a cluster rather than stalling as plain power iteration does. Stage 1 uses f32 products (sgemm
/// on W as stored); stage 2 restarts from stage 1's Ritz vectors with products in float64 (W read
/// in row panels widened exactly to float64), and only its float64 bound decides convergence.
/// W is never copied whole.
///
/// Deterministic for a given BLAS build: OpenBLAS runs single-threaded inside (see
/// `BLASThreads.deterministic`), so the thread count cannot change the bits (fixed seed, fixed panel order). The
/// value is meant to be computed once per tensor and stored (the sidecar passes it back in).
public enum SpectralNorm {
    public static func estimate(weights: [Float], rows: Int, cols: Int, tensor: String = "<matrix>",
                                options: SpectralNormOptions = SpectralNormOptions()) throws -> SpectralNormEstimate {
        try weights.withUnsafeBufferPointer {
            try estimate(weights: $0, rows: rows, cols: cols, tensor: tensor, options: options)
        }
    }

    /// The same over weights held elsewhere (e.g. a mapped f32 tensor), never copied whole.
    public static func estimate(weights: UnsafeBufferPointer<Float>, rows: Int, cols: Int, tensor: String = "<matrix>",
                                options: SpectralNormOptions = SpectralNormOptions()) throws -> SpectralNormEstimate {
        guard rows > 0, cols > 0, lapackDimension(rows) != nil, lapackDimension(cols) != nil else {
            throw RestraintError.invalidDimensions(tensor: tensor, rows: rows, cols: cols)
        }
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, weights.count == count else {
            throw RestraintError.shapeMismatch(tensor: tensor, what: "W0", expected: overflow ? -1 : count,
                                               actual: weights.count)
        }
        var allZero = true
        for (i, x) in weights.enumerated() {
            if !x.isFinite { throw RestraintError.nonFinite(tensor: tensor, what: "W0", index: i) }
            if x != 0 { allZero = false }
        }
        if allZero {
            return SpectralNormEstimate(sigmaMax: 0, errorBound: 0, secondSigma: 0, passes: 1, method: "zero")
        }
        let b = max(1, min(options.blockSize, cols))
        if cols <= 2 * b || count <= 4096 {
            let s = try withTensor(tensor) { try Matrix(rows: rows, cols: cols, floats: Array(weights)).singularValues() }
            return SpectralNormEstimate(sigmaMax: s[0], errorBound: 0, secondSigma: s.count > 1 ? s[1] : 0,
                                        passes: 1, method: "dense-svd")
        }
        return try BLASThreads.deterministic {
            try withTensor(tensor) {
                try blockKrylov(w: weights, m: rows, n: cols, b: b, tensor: tensor, options: options)
            }
        }
    }

    /// Re-labels linear-algebra errors with the tensor name.
    static func withTensor<T>(_ tensor: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let RestraintError.lapackFailure(_, routine, info) {
            throw RestraintError.lapackFailure(tensor: tensor, routine: routine, info: info)
        }
    }

    /// One pass over W: y = W·x (m × b) and z = Wᵀ·y (n × b), W widened to float64 panel by panel.
    static func gramPass(w: UnsafeBufferPointer<Float>, m: Int, n: Int, x: Matrix) -> (y: Matrix, z: Matrix) {
        let b = x.cols
        var y = Matrix(rows: m, cols: b)
        var z = Matrix(rows: n, cols: b)
        let panel = min(m, max(32, (1 << 17) / n))
        var buffer = [Double](repeating: 0, count: panel * n)
        buffer.withUnsafeMutableBufferPointer { buf in
            x.storage.withUnsafeBufferPointer { px in
                y.storage.withUnsafeMutableBufferPointer { py in
                    z.storage.withUnsafeMutableBufferPointer { pz in
                        var r0 = 0
                        while r0 < m {
                            let p = min(panel, m - r0)
                            let base = r0 * n
                            for i in 0..<(p * n) { buf[i] = Double(w[base + i]) }
                            let yPanel = py.baseAddress! + r0 * b
                            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(p), blasint(b), blasint(n),
                                        1, buf.baseAddress, blasint(n), px.baseAddress, blasint(b),
                                        0, yPanel, blasint(b))
                            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(n), blasint(b), blasint(p),
                                        1, buf.baseAddress, blasint(n), yPanel, blasint(b),
                                        1, pz.baseAddress, blasint(b))
                            r0 += p
                        }
                    }
                }
            }
        }
        return (y, z)
    }

    static func columnNorms(_ a: Matrix) -> [Double] {
        var out = [Double](repeating: 0, count: a.cols)
        for i in 0..<a.rows { for j in 0..<a.cols { let v = a.storage[i * a.cols + j]; out[j] += v * v } }
        return out.map { $0.squareRoot() }
    }

    /// Extends G = Q_oldᵀ Z_old to Qᵀ Z for Q = [Q_old q_new], Z = [Z_old z_new]: the new column
    /// block is Qᵀ z_new (Q already includes q_new); G is symmetric in exact arithmetic, so the new
    /// row block is its transpose and the new diagonal block is symmetrised.
    static func extendGram(_ g: Matrix, q: Matrix, z: Matrix) -> Matrix {
        let k = g.rows, b = z.cols, t = k + b
        precondition(q.cols == t)
        let col = Matrix.gemm(q, transposeA: true, z)   // t × b
        var out = Matrix(rows: t, cols: t)
        for i in 0..<k { for j in 0..<k { out.storage[i * t + j] = g.storage[i * k + j] } }
        for i in 0..<k {
            for j in 0..<b {
                out.storage[i * t + k + j] = col.storage[i * b + j]
                out.storage[(k + j) * t + i] = col.storage[i * b + j]
            }
        }
        for i in 0..<b {
            for j in 0..<b {
                out.storage[(k + i) * t + k + j] = 0.5 * (col.storage[(k + i) * b + j] + col.storage[(k + j) * b + i])
            }
        }
        return out
    }

    /// One pass in f32 (stage 1): y = W·x, z = Wᵀ·y with sgemm on row panels of W.
    static func gramPassFloat(w: UnsafeBufferPointer<Float>, m: Int, n: Int, x: Matrix) -> (y: Matrix, z: Matrix) {
        let b = x.cols
        let xf = x.storage.map { Float($0) }
        var yf = [Float](repeating: 0, count: m * b)
        var zf = [Float](repeating: 0, count: n * b)
        let panel = min(m, max(32, (1 << 18) / n))
        xf.withUnsafeBufferPointer { px in
            yf.withUnsafeMutableBufferPointer { py in
                zf.withUnsafeMutableBufferPointer { pz in
                    var r0 = 0
                    while r0 < m {
                        let p = min(panel, m - r0)
                        let wp = w.baseAddress! + r0 * n
                        let yPanel = py.baseAddress! + r0 * b
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(p), blasint(b), blasint(n),
                                    1, wp, blasint(n), px.baseAddress, blasint(b), 0, yPanel, blasint(b))
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(n), blasint(b), blasint(p),
                                    1, wp, blasint(n), yPanel, blasint(b), 1, pz.baseAddress, blasint(b))
                        r0 += p
                    }
                }
            }
        }
        return (Matrix(rows: m, cols: b, unchecked: yf.map(Double.init)),
                Matrix(rows: n, cols: b, unchecked: zf.map(Double.init)))
    }

    /// Two stages: (1) block Krylov with f32 products (sgemm, half the cost of a float64 pass)
    /// until the f32-computed bound is ≤ 1e-6·σ; (2) block Krylov with float64 products restarted
    /// from the top Ritz vectors of stage 1, until the float64 error bound meets the tolerance
    /// (usually one or two passes, as the Ritz value error is quadratic in the subspace angle).
    /// Only stage 2's float64 bound is reported, so the f32 stage cannot spoil the accuracy.
    static func blockKrylov(w: UnsafeBufferPointer<Float>, m: Int, n: Int, b: Int, tensor: String,
                            options: SpectralNormOptions) throws -> SpectralNormEstimate {
        var rng = SplitMix64(seed: options.seed)
        var start = Matrix(rows: n, cols: b)
        for i in 0..<start.storage.count { start.storage[i] = rng.nextSigned() }
        start = try start.qr().q
        let stage1 = try krylov(w: w, m: m, n: n, b: b, start: start, single: true,
                                tolerance: max(1e-6, options.relativeTolerance), maxPasses: options.maxPasses / 2, rng: &rng)
        let stage2 = try krylov(w: w, m: m, n: n, b: b, start: stage1.ritz, single: false,
                                tolerance: options.relativeTolerance, maxPasses: options.maxPasses - stage1.passes, rng: &rng)
        let passes = stage1.passes + stage2.passes
        guard stage2.converged else {
            throw RestraintError.notConverged(tensor: tensor, passes: passes,
                                              relativeErrorBound: stage2.sigma > 0 ? stage2.bound / stage2.sigma : .infinity)
        }
        return SpectralNormEstimate(sigmaMax: stage2.sigma, errorBound: stage2.bound, secondSigma: stage2.second,
                                    passes: passes, method: "block-krylov")
    }

    struct KrylovOutcome {
        var converged: Bool
        var sigma: Double
        var second: Double
        var bound: Double
        var passes: Int
        /// Top-b Ritz vectors (n × b, orthonormal): the restart block for a further stage.
        var ritz: Matrix
    }

    static func krylov(w: UnsafeBufferPointer<Float>, m: Int, n: Int, b: Int, start initial: Matrix, single: Bool,
                       tolerance: Double, maxPasses: Int, rng: inout SplitMix64) throws -> KrylovOutcome {
        var start = initial
        let maxBlocks = max(2, min(32, n / b))
        var passes = 0
        var out = KrylovOutcome(converged: false, sigma: 0, second: 0, bound: .infinity, passes: 0, ritz: start)
        while passes < max(1, maxPasses) {
            var qAll = start
            var zAll = Matrix(rows: n, cols: 0)
            var current = start
            var gram = Matrix(rows: 0, cols: 0)
            var ritzVectors = Matrix.identity(b)
            for j in 0..<maxBlocks {
                let (y, z) = single ? gramPassFloat(w: w, m: m, n: n, x: current) : gramPass(w: w, m: m, n: n, x: current)
                passes += 1
                _ = y
                // Rayleigh–Ritz: σ(W·Q)² are the eigenvalues of (WQ)ᵀ(WQ) = Qᵀ(WᵀWQ) = QᵀZ, grown block
                // by block (new column block Qᵀz; symmetrised).
                gram = extendGram(gram, q: qAll, z: z)
                zAll = Matrix.hconcat(zAll, z)
                let (theta, s) = try gram.symmetricEigen()
                ritzVectors = s
                let sigma1 = max(theta[0], 0).squareRoot()
                let sigma2 = theta.count > 1 ? max(theta[1], 0).squareRoot() : 0
                guard sigma1 > 0 else { break }
                let s1 = s.columns(0..<1)
                let v = Matrix.gemm(qAll, s1)
                let wtu = Matrix.gemm(zAll, s1)
                var rr = 0.0
                for i in 0..<n { let d = wtu.storage[i] / sigma1 - sigma1 * v.storage[i]; rr += d * d }
                let rnorm = rr.squareRoot()
                let gap = sigma1 - sigma2
                var bound = rnorm
                if gap > 0, rnorm <= gap / 2 { bound = min(bound, rnorm * rnorm / gap) }
                out.sigma = sigma1
                out.second = sigma2
                out.bound = bound
                out.passes = passes
                let done = bound <= tolerance * sigma1
                if done || j == maxBlocks - 1 || passes >= maxPasses {
                    out.converged = done
                    out.ritz = try Matrix.gemm(qAll, s.columns(0..<min(b, s.cols))).qr().q
                    if done || passes >= maxPasses { return out }
                    break
                }
                // Next block: Wᵀ W · current, orthogonalised against the whole basis (twice).
                var x = z
                let before = columnNorms(x)
                for _ in 0..<2 {
                    let c = Matrix.gemm(qAll, transposeA: true, x)
                    Matrix.gemm(qAll, c, alpha: -1, beta: 1, into: &x)
                }
                let after = columnNorms(x)
                if zip(before, after).contains(where: { $0.1 <= 1e-10 * $0.0 }) {
                    // An invariant subspace was found: the Ritz values are exact up to rounding.
                    out.ritz = try Matrix.gemm(qAll, s.columns(0..<min(b, s.cols))).qr().q
                    out.converged = bound <= tolerance * sigma1
                    if out.converged { return out }
                    break
                }
                current = try x.qr().q
                qAll = Matrix.hconcat(qAll, current)
            }
            // Thick restart from the top b Ritz vectors (random columns fill a short basis).
            let keep = min(b, ritzVectors.cols)
            var next = Matrix.gemm(qAll, ritzVectors.columns(0..<keep))
            if keep < b {
                next = Matrix.hconcat(next, Matrix(rows: n, cols: b - keep))
                for i in 0..<n { for j in keep..<b { next[i, j] = rng.nextSigned() } }
            }
            start = try next.qr().q
        }
        return out
    }
}
