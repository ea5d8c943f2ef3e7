import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

private typealias S = RestraintTestSupport

/// An exact SVD-form delta U diag(s) Vᵀ with orthonormal random U, V (built independently of the engine).
private func constructed(rows: Int, cols: Int, sigmas: [Double], seed: UInt64) throws -> (delta: LowRankDelta, u: Matrix, v: Matrix) {
    let k = sigmas.count
    let u = try Matrix(rows: rows, cols: k, values: S.randoms(rows * k, seed: seed)).qr().q
    let v = try Matrix(rows: cols, cols: k, values: S.randoms(cols * k, seed: seed &+ 7)).qr().q
    return (try LowRankDelta(a: u.scalingColumns(by: sigmas), b: v), u, v)
}

@Suite struct RestraintFunctionTests {
    static let functions: [RestraintFunction] = [.log(base: M_E), .log(base: 1.2), .log(base: 1.5), .log(base: 2),
                                                 .log(base: 3.7), .linear]

    @Test(arguments: functions)
    func continuousAtSigmaMaxAndMonotone(_ f: RestraintFunction) {
        for sm in [0.01, 1.0, 37.5] {
            #expect(abs(f.apply(sm, sigmaMax: sm) - sm) <= 1e-15 * sm)
            let above = f.apply(sm * (1 + 1e-12), sigmaMax: sm)
            #expect(above >= sm && above - sm <= 1e-11 * sm * max(1, 1 / sm), "jump at sigma_max for \(f.name)")
            var prev = f.apply(sm, sigmaMax: sm)
            var t = 1e-9
            while t < 1e3 {
                let y = f.apply(sm * (1 + t), sigmaMax: sm)
                #expect(y > prev, "\(f.name) not increasing at sigma = \(sm * (1 + t))")
                prev = y
                t *= 1.5
            }
        }
    }

    @Test func restrainsLargeValues() {
        // log_e: F(e·σmax) = 1 + σmax; log_2: F(4σmax) = 2 + σmax; linear: midpoint.
        #expect(abs(RestraintFunction.log(base: M_E).apply(M_E * 3, sigmaMax: 3) - 4) < 1e-14)
        #expect(abs(RestraintFunction.log(base: 2).apply(12, sigmaMax: 3) - 5) < 1e-14)
        #expect(RestraintFunction.linear.apply(9, sigmaMax: 3) == 6)
        #expect(RestraintFunction.none.apply(9, sigmaMax: 3) == 9)
    }

    @Test func namesParse() throws {
        #expect(try RestraintFunction(name: "e") == .log(base: M_E))
        #expect(try RestraintFunction(name: "log") == .log(base: M_E))
        #expect(try RestraintFunction(name: "1.2") == .log(base: 1.2))
        #expect(try RestraintFunction(name: "1.5") == .log(base: 1.5))
        #expect(try RestraintFunction(name: "2") == .log(base: 2))
        #expect(try RestraintFunction(name: "log:3.5") == .log(base: 3.5))
        #expect(try RestraintFunction(name: "linear") == .linear)
        #expect(try RestraintFunction(name: "none") == RestraintFunction.none)
        for bad in ["1", "0.5", "-2", "abc", "nan", "inf", ""] {
            #expect(throws: RestraintError.unknownFunction(bad)) { try RestraintFunction(name: bad) }
        }
        for f in RestraintFunctionTests.functions + [.none] {
            #expect(try RestraintFunction(name: f.name) == f)
        }
        #expect(try RestraintSchedule(name: "end") == .end)
        #expect(try RestraintSchedule(name: "each") == .each)
        #expect(throws: RestraintError.unknownSchedule("later")) { try RestraintSchedule(name: "later") }
    }
}

@Suite struct RestraintPropertyTests {
    @Test func componentsBelowSigmaMaxAreUntouched() throws {
        let sigmas = [5.0, 3.0, 1.0, 0.5]
        let (delta, u, v) = try constructed(rows: 120, cols: 70, sigmas: sigmas, seed: 3)
        for f in [RestraintFunction.log(base: M_E), .log(base: 1.5), .linear] {
            let r = try RestraintEngine.restrain(edits: [.lowRank(delta)], rows: 120, cols: 70, sigmaMax: 2,
                                                 configuration: RestraintConfiguration(function: f))
            let want = [f.apply(5, sigmaMax: 2), f.apply(3, sigmaMax: 2), 1, 0.5]
            let expected = Matrix.gemm(u.scalingColumns(by: want), v, transposeB: true)
            #expect(S.relativeFrobenius(r.delta.dense().storage, expected.storage) <= 1e-12)
            #expect(r.report.restrainedCount == 2 && r.report.numericalRank == 4)
            #expect(zip(r.report.topSigmaAfter, want).allSatisfy { abs($0 - $1) <= 1e-12 * $1 })
            #expect(zip(r.report.topSigmaBefore, sigmas).allSatisfy { abs($0 - $1) <= 1e-12 * $1 })
        }
        // Everything below σ_max: the delta comes back unchanged.
        let (small, _, _) = try constructed(rows: 60, cols: 90, sigmas: [1.9, 0.7, 0.01], seed: 4)
        let r = try RestraintEngine.restrain(edits: [.lowRank(small)], rows: 60, cols: 90, sigmaMax: 2,
                                             configuration: RestraintConfiguration(function: .log(base: M_E)))
        #expect(r.report.restrainedCount == 0)
        #expect(S.relativeFrobenius(r.delta.dense().storage, small.dense().storage) <= 1e-13)
    }

    @Test func zeroDeltaGivesZero() throws {
        let zeroLR = try LowRankDelta(rows: 40, cols: 30, rank: 3, a: [Float](repeating: 0, count: 120),
                                      b: [Float](repeating: 0, count: 90))
        let zeroDense = try DenseDelta(rows: 40, cols: 30, values: [Float](repeating: 0, count: 1200))
        for schedule in RestraintSchedule.allCases {
            for edits in [[Delta.lowRank(zeroLR)], [.dense(zeroDense)], [.lowRank(zeroLR), .dense(zeroDense)], []] {
                let r = try RestraintEngine.restrain(edits: edits, rows: 40, cols: 30, sigmaMax: 1,
                                                     configuration: RestraintConfiguration(function: .log(base: 2), schedule: schedule))
                #expect(r.delta.rank == 0 && r.report.numericalRank == 0 && r.report.restrainedCount == 0)
                #expect(r.delta.dense().storage.allSatisfy { $0 == 0 })
                var w: [Float] = (0..<1200).map { Float($0) - 600.5 }
                let before = w
                try r.factored.add(to: &w)
                #expect(w == before)
            }
        }
    }

    @Test func endAndEachCoincideForOneEdit() throws {
        let lr = try S.randomLowRank(rows: 90, cols: 50, rank: 6, seed: 11, scale: 3)
        let dense = try DenseDelta(Matrix(rows: 90, cols: 50, values: S.randoms(4500, seed: 12)))
        for edit in [Delta.lowRank(lr), .dense(dense)] {
            for f in [RestraintFunction.log(base: M_E), .linear, .none] {
                let end = try RestraintEngine.restrain(edits: [edit], rows: 90, cols: 50, sigmaMax: 1.5,
                                                       configuration: RestraintConfiguration(function: f, schedule: .end))
                let each = try RestraintEngine.restrain(edits: [edit], rows: 90, cols: 50, sigmaMax: 1.5,
                                                        configuration: RestraintConfiguration(function: f, schedule: .each))
                #expect(end.delta == each.delta)
                #expect(end.report.restrainedCount == each.report.restrainedCount)
                if f != .none { #expect(end.report.restrainedCount > 0) }
            }
        }
        // Two edits: the schedules differ (each restrains the first edit before the second is added).
        let lr2 = try S.randomLowRank(rows: 90, cols: 50, rank: 6, seed: 13, scale: 3)
        let cfg = { (s: RestraintSchedule) in RestraintConfiguration(function: .log(base: M_E), schedule: s) }
        let end = try RestraintEngine.restrain(edits: [.lowRank(lr), .lowRank(lr2)], rows: 90, cols: 50, sigmaMax: 1.5,
                                               configuration: cfg(.end))
        let each = try RestraintEngine.restrain(edits: [.lowRank(lr), .lowRank(lr2)], rows: 90, cols: 50, sigmaMax: 1.5,
                                                configuration: cfg(.each))
        #expect(S.relativeFrobenius(end.delta.dense().storage, each.delta.dense().storage) > 1e-3)
        #expect(each.report.restrainedPerStep.count == 2)
    }

    @Test func orientationGivesTheTransposedAnswer() throws {
        for (rows, cols) in [(150, 90), (90, 150), (100, 100)] {
            let edits: [Delta] = try [
                .lowRank(S.randomLowRank(rows: rows, cols: cols, rank: 5, seed: 21, scale: 2)),
                .lowRank(S.randomLowRank(rows: rows, cols: cols, rank: 3, seed: 22, scale: 4)),
            ]
            let w0 = S.randoms(rows * cols, seed: 23).map { Float($0) }
            var w0t = [Float](repeating: 0, count: rows * cols)
            for i in 0..<rows { for j in 0..<cols { w0t[j * rows + i] = w0[i * cols + j] } }
            let s = try RestraintEngine.sigmaMax(weights: w0, rows: rows, cols: cols).sigmaMax
            let st = try RestraintEngine.sigmaMax(weights: w0t, rows: cols, cols: rows).sigmaMax
            #expect(abs(s - st) <= 1e-8 * s)
            for schedule in RestraintSchedule.allCases {
                let cfg = RestraintConfiguration(function: .log(base: 1.5), schedule: schedule)
                let a = try RestraintEngine.restrain(edits: edits, rows: rows, cols: cols, sigmaMax: s, configuration: cfg)
                let b = try RestraintEngine.restrain(edits: edits.map { $0.transposed() }, rows: cols, cols: rows,
                                                     sigmaMax: s, configuration: cfg)
                #expect(a.report.restrainedCount > 0)
                #expect(b.report.rows == cols && b.report.cols == rows)
                if rows != cols {
                    #expect(a.delta.transposed() == b.delta, "\(rows)x\(cols) \(schedule): not bit-identical")
                } else {
                    let err = S.relativeFrobenius(a.delta.dense().transposed().storage, b.delta.dense().storage)
                    #expect(err <= 1e-12)
                }
            }
        }
    }

    @Test func continuationFromTheRawRecordIsExact() throws {
        let (rows, cols) = (80, 60)
        let edits: [Delta] = try (0..<10).map { i in
            i == 4 ? .dense(try DenseDelta(Matrix(rows: rows, cols: cols, values: S.randoms(rows * cols, seed: 99))))
                   : .lowRank(try S.randomLowRank(rows: rows, cols: cols, rank: 1 + i % 3, seed: UInt64(40 + i), scale: 2))
        }
        let cfg = RestraintConfiguration(function: .log(base: M_E))
        let once = try RestraintEngine.restrain(edits: edits, rows: rows, cols: cols, sigmaMax: 1.2, configuration: cfg)
        // First run: 6 edits, stored record (as a sidecar would: plain arrays), then 4 more.
        var first = DeltaAccumulator(rows: rows, cols: cols)
        for e in edits[0..<6] { try first.append(e) }
        let raw = first.rawLowRank
        let storedA = raw.a.storage, storedB = raw.b.storage, storedDense = first.denseSum?.storage
        let restored = try LowRankDelta(a: Matrix(rows: rows, cols: raw.rank, values: storedA),
                                        b: Matrix(rows: cols, cols: raw.rank, values: storedB))
        var cont = try DeltaAccumulator(rows: rows, cols: cols, rawLowRank: restored,
                                        denseSum: storedDense.map { try Matrix(rows: rows, cols: cols, values: $0) },
                                        edits: first.edits)
        for e in edits[6...] { try cont.append(e) }
        let continued = try RestraintEngine.restrain(accumulated: cont, sigmaMax: 1.2, configuration: cfg)
        #expect(continued.delta == once.delta)
        #expect(continued.report == once.report)
        // `each`: continuing from the float64 state equals one run.
        let eachCfg = RestraintConfiguration(function: .log(base: M_E), schedule: .each)
        let eachOnce = try RestraintEngine.restrain(edits: edits, rows: rows, cols: cols, sigmaMax: 1.2, configuration: eachCfg)
        let part = try RestraintEngine.restrain(edits: Array(edits[0..<6]), rows: rows, cols: cols, sigmaMax: 1.2,
                                                configuration: eachCfg)
        let rest = try RestraintEngine.restrain(edits: Array(edits[6...]), rows: rows, cols: cols, sigmaMax: 1.2,
                                                configuration: eachCfg, initialState: part.delta)
        #expect(rest.delta == eachOnce.delta)
    }

    @Test func lowRankAndDensePathsAgree() throws {
        // rank·(rows+cols) ≥ rows·cols switches to the dense path; both must give the same answer.
        let d = try S.randomLowRank(rows: 40, cols: 30, rank: 12, seed: 5, scale: 2)
        var small = DeltaAccumulator(rows: 40, cols: 30)
        try small.append(.lowRank(d))
        #expect(!small.usesDensePath)
        var dense = DeltaAccumulator(rows: 40, cols: 30)
        try dense.append(.dense(DenseDelta(d.dense())))
        #expect(dense.usesDensePath)
        let cfg = RestraintConfiguration(function: .log(base: 2))
        let a = try RestraintEngine.restrain(accumulated: small, sigmaMax: 1, configuration: cfg)
        let b = try RestraintEngine.restrain(accumulated: dense, sigmaMax: 1, configuration: cfg)
        #expect(a.report.path == "low-rank" && b.report.path == "dense")
        #expect(a.report.numericalRank == 12 && b.report.numericalRank == 12)
        #expect(S.relativeFrobenius(a.delta.dense().storage, b.delta.dense().storage) <= 1e-12)
        let s = try d.dense().singularValues()
        #expect(zip(a.report.topSigmaBefore, s).allSatisfy { abs($0 - $1) <= 1e-12 * s[0] })
    }

    @Test func recompressionKeepsTheDeltaAndDropsRedundantRank() throws {
        let d = try S.randomLowRank(rows: 120, cols: 80, rank: 5, seed: 61, scale: 2)
        var acc = DeltaAccumulator(rows: 120, cols: 80)
        for _ in 0..<4 { try acc.append(.lowRank(d)) }   // the same edit 4 times: raw rank 20, true rank 5
        #expect(acc.rank == 20 && acc.edits == 4)
        let compact = try acc.rawLowRank.recompressed()
        #expect(compact.rank == 5)
        let want = d.dense().storage.map { $0 * 4 }
        #expect(S.relativeFrobenius(compact.dense().storage, want) <= 1e-13)
        #expect(S.relativeFrobenius(acc.dense().storage, want) <= 1e-14)
    }

    @Test func float32RankEpsilonDropsTinyComponents() throws {
        // σ ratio 1e-6 < max(m,n)·ε_f32 (≈ 1.2e-5 here) but ≫ max(m,n)·ε_f64.
        let (d, _, _) = try constructed(rows: 100, cols: 80, sigmas: [3, 1, 3e-6], seed: 8)
        let f64 = try RestraintEngine.restrain(edits: [.lowRank(d)], rows: 100, cols: 80, sigmaMax: 2,
                                               configuration: RestraintConfiguration(function: .linear))
        let f32 = try RestraintEngine.restrain(edits: [.lowRank(d)], rows: 100, cols: 80, sigmaMax: 2,
                                               configuration: RestraintConfiguration(function: .linear, rankEpsilon: .float32))
        #expect(f64.report.numericalRank == 3 && f32.report.numericalRank == 2)
    }

    /// OpenBLAS's own thread count must not change what apply writes. Checked in child processes
    /// (OPENBLAS_NUM_THREADS 1 and 2), because the count is process-global: changing it inside
    /// this test process would race with the runtime tests running beside it.
    @Test func blasThreadCountDoesNotChangeTheResult() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prune-blas-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let apply = try ReportTest.binary("prune-apply")
        var outputs: [(Data, Data)] = []
        for t in ["1", "2"] {
            var env = ProcessInfo.processInfo.environment
            env["OPENBLAS_NUM_THREADS"] = t
            let out = "\(dir)/out\(t).safetensors", car = "\(dir)/car\(t).prune"
            let r = try ReportTest.run(apply, ["samples/gpt2-tiny/model.safetensors", "samples/more.jsonl", "--no-compress",
                                               "-o", out, "--sidecar", car], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append((try Data(contentsOf: URL(fileURLWithPath: out)), try Data(contentsOf: URL(fileURLWithPath: car))))
        }
        #expect(outputs[0].0 == outputs[1].0)
        #expect(outputs[0].1 == outputs[1].1)
    }

    @Test func badInputThrowsReadableErrors() throws {
        #expect(throws: RestraintError.shapeMismatch(tensor: "t.w", what: "low-rank factor a (rows x rank)", expected: 20, actual: 19)) {
            try LowRankDelta(rows: 10, cols: 5, rank: 2, a: [Float](repeating: 1, count: 19), b: [Float](repeating: 1, count: 10), tensor: "t.w")
        }
        #expect(throws: RestraintError.nonFinite(tensor: "t.w", what: "low-rank factor b", index: 3)) {
            var b = [Float](repeating: 1, count: 10); b[3] = .nan
            return try LowRankDelta(rows: 10, cols: 5, rank: 2, a: [Float](repeating: 1, count: 20), b: b, tensor: "t.w")
        }
        let d = try S.randomLowRank(rows: 10, cols: 5, rank: 1, seed: 1)
        #expect(throws: RestraintError.deltaShapeMismatch(tensor: "t.w", edit: 2, rows: 10, cols: 5, expectedRows: 10, expectedCols: 6)) {
            try RestraintEngine.restrain(edits: [.lowRank(try S.randomLowRank(rows: 10, cols: 6, rank: 1, seed: 2)), .lowRank(d)],
                                         rows: 10, cols: 6, sigmaMax: 1, configuration: RestraintConfiguration(function: .linear), tensor: "t.w")
        }
        for bad in [0.0, -1, .nan, .infinity] {
            do {
                _ = try RestraintEngine.restrain(edits: [.lowRank(d)], rows: 10, cols: 5, sigmaMax: bad,
                                                 configuration: RestraintConfiguration(function: .log(base: 2)), tensor: "t.w")
                Issue.record("sigma_max \(bad) accepted")
            } catch let RestraintError.invalidSigmaMax(tensor, value) {
                #expect(tensor == "t.w" && (value == bad || (value.isNaN && bad.isNaN)))
            }
        }
        _ = try RestraintEngine.restrain(edits: [.lowRank(d)], rows: 10, cols: 5, sigmaMax: .nan,
                                         configuration: RestraintConfiguration(function: .none))
        #expect(throws: RestraintError.nonFinite(tensor: "w0", what: "W0", index: 7)) {
            var w = [Float](repeating: 1, count: 50); w[7] = .infinity
            return try RestraintEngine.sigmaMax(weights: w, rows: 10, cols: 5, tensor: "w0")
        }
        #expect(throws: RestraintError.shapeMismatch(tensor: "w0", what: "W0", expected: 50, actual: 49)) {
            try RestraintEngine.sigmaMax(weights: [Float](repeating: 1, count: 49), rows: 10, cols: 5, tensor: "w0")
        }
        let f = d.factored()
        var w = [Float](repeating: 0, count: 49)
        #expect(throws: RestraintError.self) { try f.add(to: &w, tensor: "t.w") }
        let message = RestraintError.invalidSigmaMax(tensor: "model.layers.3.mlp.down_proj.weight", value: 0).errorDescription ?? ""
        #expect(message.hasPrefix("model.layers.3.mlp.down_proj.weight: ") && !message.contains("\n"))
    }
}

@Suite struct SpectralNormTests {
    @Test func degenerateTopPairConverges() throws {
        // σ₁ = σ₂ exactly (in float64 before rounding to f32), σ₃ close behind.
        let (rows, cols) = (400, 300)
        let spectrum = [7.0, 7.0, 6.999] + (0..<297).map { 6.5 * pow(0.98, Double($0)) }
        let (d, _, _) = try constructed(rows: rows, cols: cols, sigmas: spectrum, seed: 31)
        let w = d.dense().storage.map { Float($0) }
        let exact = try Matrix(rows: rows, cols: cols, floats: w).singularValues()[0]
        let est = try RestraintEngine.sigmaMax(weights: w, rows: rows, cols: cols)
        #expect(abs(est.sigmaMax - exact) <= 1e-8 * exact, "\(est.sigmaMax) vs \(exact)")
        #expect(est.sigmaMax <= exact * (1 + 1e-12))  // a Ritz value never exceeds σ₁
        #expect(est.errorBound <= 1e-8 * est.sigmaMax)
        // Plain power iteration with a fixed count would stall far from this accuracy; the bound is real.
        #expect(abs(est.sigmaMax - exact) <= est.errorBound * 10 + 1e-14 * exact)
    }

    @Test func flatGaussianSpectrumConverges() throws {
        let (rows, cols) = (900, 500)
        let w = S.randoms(rows * cols, seed: 32).map { Float($0) }
        let exact = try Matrix(rows: rows, cols: cols, floats: w).singularValues()[0]
        let est = try RestraintEngine.sigmaMax(weights: w, rows: rows, cols: cols)
        #expect(abs(est.sigmaMax - exact) <= 1e-8 * exact)
        #expect(est.method == "block-krylov")
    }

    @Test func lowRankAndZeroMatrices() throws {
        let d = try S.randomLowRank(rows: 300, cols: 200, rank: 2, seed: 33)
        let w = d.dense().storage.map { Float($0) }
        let exact = try Matrix(rows: 300, cols: 200, floats: w).singularValues()[0]
        #expect(abs(try RestraintEngine.sigmaMax(weights: w, rows: 300, cols: 200).sigmaMax - exact) <= 1e-8 * exact)
        let zero = try RestraintEngine.sigmaMax(weights: [Float](repeating: 0, count: 60_000), rows: 300, cols: 200)
        #expect(zero.sigmaMax == 0)
    }
}

@Suite struct FactoredDeltaTests {
    /// The documented formula, written independently of the kernel.
    func naive(_ f: FactoredDelta, _ w: [Float], sign: Double?) -> [Float] {
        var out = [Float](repeating: 0, count: f.rows * f.cols)
        for i in 0..<f.rows {
            for j in 0..<f.cols {
                var d = 0.0
                for k in 0..<f.rank { d += Double(f.u[i * f.rank + k]) * Double(f.v[j * f.rank + k]) }
                out[i * f.cols + j] = sign.map { Float(Double(w[i * f.cols + j]) + $0 * d) } ?? Float(d)
            }
        }
        return out
    }

    @Test(arguments: [(70, 333, 37), (257, 64, 5), (5, 1000, 300), (1, 1, 1)])
    func fixedOrderWhateverTheThreadCount(_ shape: (Int, Int, Int)) throws {
        let (rows, cols, rank) = shape
        let u = S.randoms(rows * rank, seed: 51).map { Float($0) }
        let v = S.randoms(cols * rank, seed: 52).map { Float($0 * 1e-3) }
        let f = try FactoredDelta(rows: rows, cols: cols, rank: rank, u: u, v: v)
        let w0 = S.randoms(rows * cols, seed: 53).map { Float($0 * 0.05) }
        let wantAdd = naive(f, w0, sign: 1), wantSub = naive(f, w0, sign: -1), wantDense = naive(f, w0, sign: nil)
        for threads in [1, 2, 3, 5] {
            var a = w0
            try f.add(to: &a, threads: threads)
            #expect(a == wantAdd, "add, \(threads) threads")
            var s = w0
            try f.subtract(from: &s, threads: threads)
            #expect(s == wantSub, "subtract, \(threads) threads")
            #expect(f.dense(threads: threads) == wantDense, "dense, \(threads) threads")
        }
        #expect(f.transposed().transposed() == f)
    }
}
