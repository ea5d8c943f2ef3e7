// prune-bench-restraint: the PRUNE restraint, reference-style dense path vs the fast path, in one run.
//
//   swift run -c release prune-bench-restraint [--case reference|llama|dense|all] [--threads N]
//                                              [--rows R --cols C --rank K]   (custom fast-path case)
//
// reference: 6400x1600 f32 W0, 100 rank-1 edits (accumulated rank 100). Dense path follows the
//            reference: full SVD of dW (U, V: numpy's default full_matrices), SVDs of W0, W0+dW and
//            the new W (values only — a conservative baseline, the reference computes more), the
//            rank, F, U_r F(S_r) V_r^T. Fast path: block-Krylov sigma_max(W0) + low-rank restraint.
//            Prints both times, the ratio and their agreement (relative Frobenius).
// llama:     fast path time and peak memory (VmHWM, reset per case) for 4096x11008 and 4096x14336,
//            accumulated rank 100 (1 edit) and 1000 (10 edits of rank 100), plus materialisation.
// dense:     a dense full-rank 2048x2048 delta (dense path).
import Foundation
import PruneKit
import PruneFormats

struct Rng {
    var state: UInt64
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * (1.0 / 9_007_199_254_740_992.0) * 2 - 1
    }
    /// Approximately standard normal (sum of 4 uniforms, scaled).
    mutating func normal() -> Double { (next() + next() + next() + next()) * 0.8660254037844386 }
}

func wall() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Process CPU time (user + system, all threads). The machine is shared, so CPU seconds are the
/// fairer measure; both are printed.
func cpu() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

struct Stamp {
    let w = wall(), c = cpu()
    static func - (a: Stamp, b: Stamp) -> Span { Span(wall: a.w - b.w, cpu: a.c - b.c) }
}

struct Span: CustomStringConvertible {
    var wall: Double
    var cpu: Double
    static func + (a: Span, b: Span) -> Span { Span(wall: a.wall + b.wall, cpu: a.cpu + b.cpu) }
    static func - (a: Span, b: Span) -> Span { Span(wall: a.wall - b.wall, cpu: a.cpu - b.cpu) }
    var description: String { String(format: "%.3f s (cpu %.3f s)", wall, cpu) }
}

func now() -> Stamp { Stamp() }

func peakRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? -1
        return kb / 1024
    }
    return -1
}

func resetPeakRSS() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }

/// Gaussian entries (a flat spectrum edge: the slowest case for sigma_max), or with `decay`, columns
/// scaled by 1/(1+j/8)^0.5 (a spread spectrum closer to trained weights).
func randomWeights(_ rows: Int, _ cols: Int, seed: UInt64, scale: Double, decay: Bool = false) -> [Float] {
    var g = Rng(state: seed)
    var out = [Float](repeating: 0, count: rows * cols)
    for i in 0..<rows {
        for j in 0..<cols {
            let f = decay ? 1 / (1 + Double(j) / 8).squareRoot() : 1
            out[i * cols + j] = Float(g.normal() * scale * f)
        }
    }
    return out
}
let decayW0 = CommandLine.arguments.contains("--decaying")

/// `count` edits of rank `k` with orthonormal-ish random directions and singular values spread over
/// [lo, hi]·sigmaMax (some below, some above sigma_max).
func randomEdits(rows: Int, cols: Int, count: Int, k: Int, sigmaMax: Double, lo: Double, hi: Double,
                 seed: UInt64) throws -> [Delta] {
    var g = Rng(state: seed)
    var out: [Delta] = []
    for e in 0..<count {
        var a = [Float](repeating: 0, count: rows * k)
        var b = [Float](repeating: 0, count: cols * k)
        for j in 0..<k {
            let t = Double(e * k + j) / Double(max(1, count * k - 1))
            let sigma = (lo + (hi - lo) * t) * sigmaMax
            // Uniform entries in [-1, 1) have variance 1/3: ‖a‖ ≈ σ, ‖b‖ ≈ 1, so σ(a bᵀ) ≈ σ.
            let sa = sigma / Double(rows).squareRoot() * 1.7320508, sb = 1.7320508 / Double(cols).squareRoot()
            for i in 0..<rows { a[i * k + j] = Float(g.next() * sa) }
            for i in 0..<cols { b[i * k + j] = Float(g.next() * sb) }
        }
        out.append(.lowRank(try LowRankDelta(rows: rows, cols: cols, rank: k, a: a, b: b)))
    }
    return out
}

func relFrob(_ a: Matrix, _ b: Matrix) -> Double { (a - b).frobeniusNorm / max(b.frobeniusNorm, .leastNormalMagnitude) }

func fmt(_ x: Double, _ d: Int = 3) -> String { String(format: "%.\(d)f", x) }

let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
let which = option("--case") ?? "all"
let threads = Int(option("--threads") ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
BLASThreads.set(threads)
let config = RestraintConfiguration(function: .log(base: M_E), schedule: .end)
print("prune-bench-restraint: BLAS threads \(BLASThreads.current), materialisation threads \(threads)")

/// The reference calls numpy's svd with its default full_matrices=True on all four matrices;
/// `--values-only-baseline` computes only singular values for W0, W0+dW and the new W (a faster,
/// more conservative baseline).
let baselineVectors: SVDVectors = CommandLine.arguments.contains("--values-only-baseline") ? .none : .full

func referenceCase() throws {
    let (m, n) = (6400, 1600)
    print("\n== reference case: \(m)x\(n) f32, 100 rank-1 edits (accumulated rank 100), F = log_e")
    let w0 = randomWeights(m, n, seed: 1, scale: 0.02, decay: decayW0)
    // Fast path.
    resetPeakRSS()
    let t0 = now()
    let est = try RestraintEngine.sigmaMax(weights: w0, rows: m, cols: n)
    let t1 = now()
    let edits = try randomEdits(rows: m, cols: n, count: 100, k: 1, sigmaMax: est.sigmaMax, lo: 0.2, hi: 3, seed: 2)
    let t2 = now()
    let fast = try RestraintEngine.restrain(edits: edits, rows: m, cols: n, sigmaMax: est.sigmaMax, configuration: config)
    let t3 = now()
    let fastTotal = (t1 - t0) + (t3 - t2)
    print("fast path: sigma_max(W0) \("\(t1 - t0)") (\(est.passes) passes, bound \(est.errorBound / est.sigmaMax)), "
          + "restraint \("\(t3 - t2)"), total \("\(fastTotal)"), peak RSS \(fmt(peakRSSMiB(), 0)) MiB")
    print("  rank \(fast.report.numericalRank), restrained \(fast.report.restrainedCount), path \(fast.report.path)")
    // Dense path following the reference.
    let w = try Matrix(rows: m, cols: n, floats: w0)
    let d0 = now()
    var acc = DeltaAccumulator(rows: m, cols: n)
    for e in edits { try acc.append(e) }
    let dW = acc.dense()
    let d1 = now()
    let svdD = try dW.svd(.full)
    let d2 = now()
    let sW0 = try w.svd(baselineVectors).s
    let d3 = now()
    let sEdited = try (w + dW).svd(baselineVectors).s
    let d4 = now()
    let r = NumericalRank.rank(singularValues: svdD.s, rows: m, cols: n, epsilon: Double.ulpOfOne)
    let sigmaMax = sW0[0]
    var s2 = Array(svdD.s[0..<r])
    for i in 0..<r where s2[i] >= sigmaMax { s2[i] = config.function.apply(s2[i], sigmaMax: sigmaMax) }
    let ur = svdD.u.columns(0..<r).scalingColumns(by: s2)
    let newDelta = Matrix.gemm(ur, svdD.vt.rowSlice(0..<r))
    let newW = w + newDelta
    let d5 = now()
    let sNew = try newW.svd(baselineVectors).s
    let d6 = now()
    let denseTotal = d6 - d0
    print("dense path (SVDs of W0, W0+dW, new W: \(baselineVectors == .full ? "full U, V as numpy's default" : "values only")):")
    print("  build dW \("\(d1 - d0)"), full SVD(dW) \("\(d2 - d1)"), SVD(W0) \("\(d3 - d2)"), "
          + "SVD(W0+dW) \("\(d4 - d3)"), restrain+new W \("\(d5 - d4)"), SVD(new W) \("\(d6 - d5)"); total \("\(denseTotal)")")
    let agreement = relFrob(fast.delta.dense(), newDelta)
    let restraintOnlyDense = denseTotal - (d3 - d2), restraintOnlyFast = t3 - t2
    print("ratio dense/fast incl. sigma_max(W0): wall \(fmt(denseTotal.wall / fastTotal.wall, 1))x, cpu \(fmt(denseTotal.cpu / fastTotal.cpu, 1))x")
    print("ratio restraint only (sigma_max(W0) given, as when the sidecar stores it; dense minus its SVD(W0)): wall "
          + "\(fmt(restraintOnlyDense.wall / restraintOnlyFast.wall, 1))x, cpu \(fmt(restraintOnlyDense.cpu / restraintOnlyFast.cpu, 1))x")
    print("agreement: restrained delta rel. Frobenius \(agreement) (contract 1e-4); sigma_max rel. error "
          + "\(abs(est.sigmaMax - sigmaMax) / sigmaMax) (contract 1e-6); rank \(r) vs \(fast.report.numericalRank)")
    let kc = now()
    var kAcc = DeltaAccumulator(rows: m, cols: n)
    for e in edits { try kAcc.append(e) }
    let kappa = try RestraintEngine.conditionNumbers(w0: w0, rows: m, cols: n, accumulated: kAcc, restrained: fast.delta)
    let kappaTime = now() - kc
    print("condition numbers (RestraintEngine.conditionNumbers): kappa(W0) \(fmt(kappa.kappaW0, 4)), kappa(W0+dW) "
          + "\(fmt(kappa.kappaEdited, 4)), kappa(W0+dW_bar) \(fmt(kappa.kappaRestrained, 4)); took \(kappaTime); dense path's: "
          + "\(fmt(sW0[0] / sW0.last!, 4)), \(fmt(sEdited[0] / sEdited.last!, 4)), \(fmt(sNew[0] / sNew.last!, 4))")
}

func fastCase(rows m: Int, cols n: Int, rank: Int, edits count: Int) throws {
    resetPeakRSS()
    let base = peakRSSMiB()
    let w0 = randomWeights(m, n, seed: 7, scale: 0.02, decay: decayW0)
    let t0 = now()
    let est = try RestraintEngine.sigmaMax(weights: w0, rows: m, cols: n)
    let t1 = now()
    let edits = try randomEdits(rows: m, cols: n, count: count, k: rank / count, sigmaMax: est.sigmaMax,
                                lo: 0.1, hi: 3, seed: 9)
    let t2 = now()
    let r = try RestraintEngine.restrain(edits: edits, rows: m, cols: n, sigmaMax: est.sigmaMax, configuration: config)
    let t3 = now()
    let factored = r.factored
    var w = w0
    let t4 = now()
    try factored.add(to: &w, threads: threads)
    let t5 = now()
    var w1 = w0
    try factored.add(to: &w1, threads: 1)
    let same = w1 == w
    print("\(m)x\(n) rank \(rank) (\(count) edit\(count == 1 ? "" : "s")): sigma_max \("\(t1 - t0)") (\(est.passes) passes), "
          + "restraint \("\(t3 - t2)") [\(r.report.path), r=\(r.report.numericalRank), restrained \(r.report.restrainedCount)], "
          + "fast total \("\((t1 - t0) + (t3 - t2))"); materialise \("\(t5 - t4)") (\(threads) threads, "
          + "bit-identical to 1 thread: \(same)); peak RSS \(fmt(peakRSSMiB(), 0)) MiB (W0 alone \(fmt(Double(m * n * 4) / 1048576, 0)) MiB, "
          + "process before case \(fmt(base, 0)) MiB)")
}

func denseCase() throws {
    let n = 2048
    resetPeakRSS()
    let w0 = randomWeights(n, n, seed: 11, scale: 0.02, decay: decayW0)
    let t0 = now()
    let est = try RestraintEngine.sigmaMax(weights: w0, rows: n, cols: n)
    let t1 = now()
    let d = randomWeights(n, n, seed: 12, scale: 0.05)
    let delta = try DenseDelta(rows: n, cols: n, values: d)
    let t2 = now()
    let r = try RestraintEngine.restrain(edits: [.dense(delta)], rows: n, cols: n, sigmaMax: est.sigmaMax, configuration: config)
    let t3 = now()
    print("\n== dense full-rank \(n)x\(n) delta: sigma_max \("\(t1 - t0)"), restraint \("\(t3 - t2)") "
          + "[\(r.report.path), r=\(r.report.numericalRank), restrained \(r.report.restrainedCount)], peak RSS \(fmt(peakRSSMiB(), 0)) MiB")
}

do {
    if let rs = option("--rows"), let cs = option("--cols"), let ks = option("--rank"),
       let m = Int(rs), let n = Int(cs), let k = Int(ks) {
        try fastCase(rows: m, cols: n, rank: k, edits: Int(option("--edits") ?? "1") ?? 1)
    } else {
        if which == "reference" || which == "all" { try referenceCase() }
        if which == "llama" || which == "all" {
            print("\n== fast path, LLM down_proj shapes")
            for (m, n) in [(4096, 11008), (4096, 14336)] {
                try fastCase(rows: m, cols: n, rank: 100, edits: 1)
                try fastCase(rows: m, cols: n, rank: 1000, edits: 10)
            }
        }
        if which == "dense" || which == "all" { try denseCase() }
    }
} catch {
    FileHandle.standardError.write(Data("prune-bench-restraint: \(error.localizedDescription)\n".utf8))
    exit(1)
}
