import Foundation
import Testing
@testable import PruneRuntime

/// Each kernel's backward (PruneRuntime/Kernels) against central differences of its forward, on
/// random inputs: L = Σ c·forward(x) with fixed random c, its derivative along a random direction v
/// from the backward (Σ dx·v) and from the forward (`ArithmeticTolerance.centralDifference`, with
/// the error bound derived there). Each test also requires that bound to be small against the
/// derivative, so that a wrong backward cannot pass.
@Suite struct BackwardKernelTests {
    static func random(_ n: Int, _ rng: inout SplitMix, scale: Float = 1) -> [Float] { (0..<n).map { _ in rng.nextFloat() * scale } }
    static func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
    static func along(_ x: [Float], _ v: [Float], _ t: Double) -> [Float] { zip(x, v).map { Float(Double($0) + t * Double($1)) } }

    /// Checks the backward's directional derivative against the central difference.
    static func check(_ name: String, analytic: Double, gradient: [Float], direction v: [Float], length: Int, stages: Int,
                      difference: (value: Double, error: Double)) {
        // The backward's own rounding: Σ dx·v of values from `stages` stages of sums of `length` terms.
        let own = ArithmeticTolerance.weightedSumNoise(weights: v, scale: ArithmeticTolerance.largestMagnitude(gradient),
                                                       length: length, stages: stages)
        let bound = difference.error + own
        #expect(abs(analytic - difference.value) <= bound,
                "\(name): backward \(analytic), central difference \(difference.value) (bound \(bound))")
        #expect(bound <= 1e-2 * abs(difference.value), "\(name): the bound \(bound) is not tight against \(difference.value)")
    }

    @Test(arguments: [true, false])
    func normBackwardMatchesDifferences(layer: Bool) {
        var rng = SplitMix(seed: layer ? 11 : 12)
        let rows = 3, d = 64
        let x = Self.random(rows * d, &rng, scale: 2), v = Self.random(rows * d, &rng), c = Self.random(rows * d, &rng)
        let w = NormWeights(weight: Self.random(d, &rng), bias: layer ? Self.random(d, &rng) : nil)
        func forward(_ x: [Float]) -> ([Float], NormStatistics) {
            var y = [Float](repeating: 0, count: rows * d)
            let s = layer ? Norms.layerNorm(x, rows: rows, width: d, weights: w, epsilon: 1e-5, into: &y)
                : Norms.rmsNorm(x, rows: rows, width: d, weights: w, epsilon: 1e-5, into: &y)
            return (y, s)
        }
        let (y, stats) = forward(x)
        let dx = layer ? Norms.layerNormBackward(c, input: x, rows: rows, width: d, weights: w, statistics: stats)
            : Norms.rmsNormBackward(c, input: x, rows: rows, width: d, weights: w, statistics: stats)
        let noise = ArithmeticTolerance.weightedSumNoise(weights: c, scale: ArithmeticTolerance.largestMagnitude(y), length: d, stages: 2)
        let fd = ArithmeticTolerance.centralDifference(step: 0.2, noise: noise) { t in Self.dot(c, forward(Self.along(x, v, t)).0) }
        Self.check(layer ? "LayerNorm" : "RMSNorm", analytic: Self.dot(dx, v), gradient: dx, direction: v, length: d, stages: 2, difference: fd)
    }

    @Test func linearBackwardMatchesDifferences() {
        var rng = SplitMix(seed: 21)
        let rows = 5, n = 150, k = 70   // more than one block of input features
        let w = WeightMatrix(rows: n, cols: k, values: Self.random(n * k, &rng))
        let x = Self.random(rows * k, &rng), v = Self.random(rows * k, &rng), c = Self.random(rows * n, &rng)
        let ws = Workspace(threads: 2)
        func forward(_ x: [Float]) -> [Float] { Linear.forward(x, rows: rows, weight: w, bias: nil, workspace: ws) }
        var dx = [Float](repeating: 0, count: rows * k)
        c.withUnsafeBufferPointer { g in dx.withUnsafeMutableBufferPointer { Linear.backwardInput(g.baseAddress!, rows: rows, weight: w, into: $0.baseAddress!, workspace: ws) } }
        let y = forward(x)
        let noise = ArithmeticTolerance.weightedSumNoise(weights: c, scale: ArithmeticTolerance.largestMagnitude(y), length: k, stages: 1)
        let fd = ArithmeticTolerance.centralDifference(step: 1e-1, noise: noise) { t in Self.dot(c, forward(Self.along(x, v, t))) }
        Self.check("Linear", analytic: Self.dot(dx, v), gradient: dx, direction: v, length: n, stages: 1, difference: fd)
    }

    /// Two packed sequences, grouped-query heads (4 query heads on 2 key/value heads).
    @Test func attentionBackwardMatchesDifferencesOnAnyThreadCount() {
        var rng = SplitMix(seed: 31)
        let layout = BatchLayout(lengths: [6, 3])
        let heads = 4, kvHeads = 2, hd = 8, n = layout.rows
        let qw = heads * hd, kvw = kvHeads * hd, scale = 1 / Float(hd).squareRoot()
        let q = Self.random(n * qw, &rng, scale: 2), k = Self.random(n * kvw, &rng, scale: 2), v = Self.random(n * kvw, &rng)
        let dir = Self.random(n * (qw + 2 * kvw), &rng), c = Self.random(n * qw, &rng)
        func forward(_ q: [Float], _ k: [Float], _ v: [Float], threads: Int) -> ([Float], [[Float]]) {
            var out = [Float](repeating: 0, count: n * qw)
            let probs = UnsafeMutableSendableArray<[Float]>(count: layout.sequences.count * heads)
            q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
                out.withUnsafeMutableBufferPointer { op in
                    let kv = layout.sequences.map { s in
                        AttentionKernel.KeyValues(keys: kp.baseAddress! + s.firstRow * kvw, values: vp.baseAddress! + s.firstRow * kvw, ld: kvw, count: s.count)
                    }
                    AttentionKernel.forward(q: qp.baseAddress!, ldq: qw, layout: layout, kv: kv, heads: heads, kvHeads: kvHeads, headDim: hd,
                                            scale: scale, out: op.baseAddress!, ldo: qw, probabilities: probs, workspace: Workspace(threads: threads))
                }
            }}}
            return (out, (0..<probs.count).map { probs[$0] ?? [] })
        }
        func backward(threads: Int) -> [Float] {
            let probs = forward(q, k, v, threads: 1).1
            var dq = [Float](repeating: 0, count: n * qw), dk = [Float](repeating: 0, count: n * kvw), dv = dk
            c.withUnsafeBufferPointer { cp in q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            dq.withUnsafeMutableBufferPointer { a in dk.withUnsafeMutableBufferPointer { b in dv.withUnsafeMutableBufferPointer { e in
                AttentionKernel.backward(dout: cp.baseAddress!, lddo: qw, q: qp.baseAddress!, ldq: qw, k: kp.baseAddress!, v: vp.baseAddress!,
                                         ldkv: kvw, probabilities: probs, layout: layout, heads: heads, kvHeads: kvHeads, headDim: hd,
                                         scale: scale, dq: a.baseAddress!, dk: b.baseAddress!, dv: e.baseAddress!, workspace: Workspace(threads: threads))
            }}}}}}}
            return dq + dk + dv
        }
        let grad = backward(threads: 1)
        #expect(grad.map(\.bitPattern) == backward(threads: 3).map(\.bitPattern), "the backward's bits depend on the thread count")
        let (y, _) = forward(q, k, v, threads: 1)
        let noise = ArithmeticTolerance.weightedSumNoise(weights: c, scale: ArithmeticTolerance.largestMagnitude(y), length: max(hd, 6), stages: 3)
        let fd = ArithmeticTolerance.centralDifference(step: 2e-2, noise: noise) { t in
            let x = Self.along(q + k + v, dir, t)
            return Self.dot(c, forward(Array(x[0..<(n * qw)]), Array(x[(n * qw)..<(n * (qw + kvw))]), Array(x[(n * (qw + kvw))...]), threads: 1).0)
        }
        Self.check("attention", analytic: Self.dot(grad, dir), gradient: grad, direction: dir, length: max(hd, 6), stages: 3, difference: fd)
    }

    /// RoPE is a rotation: its backward (the inverse rotation) is its transpose, ⟨R x, y⟩ = ⟨x, R⁻¹ y⟩,
    /// and the central difference of the linear map agrees.
    @Test func ropeInverseIsTheTranspose() {
        var rng = SplitMix(seed: 41)
        let table = RopeTable(positions: [0, 1, 2, 7, 0, 3], rope: RopeConfig(theta: 10000, dimensions: 16))
        let rows = 6, heads = 3, hd = 16, ld = heads * hd
        let x = Self.random(rows * ld, &rng), y = Self.random(rows * ld, &rng)
        func rotate(_ a: [Float], inverse: Bool) -> [Float] {
            var r = a
            r.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, rows: rows, ld: ld, heads: heads, headDim: hd, inverse: inverse) }
            return r
        }
        let rx = rotate(x, inverse: false), riy = rotate(y, inverse: true)
        let lhs = Self.dot(rx, y), rhs = Self.dot(x, riy)
        // Each rotated value is two products and a sum (2 roundings); the dot products sum rows·ld terms.
        let bound = Double(ArithmeticTolerance.reordered(scale: 2, length: rows * ld, stages: 2)) * Double(rows * ld)
        #expect(abs(lhs - rhs) <= bound, "⟨Rx, y⟩ \(lhs) vs ⟨x, R⁻¹y⟩ \(rhs)")
        #expect(x.map(\.bitPattern) != rotate(rotate(x, inverse: false), inverse: false).map(\.bitPattern))   // not the identity
        let noise = ArithmeticTolerance.weightedSumNoise(weights: y, scale: 2, length: 2, stages: 1)
        let fd = ArithmeticTolerance.centralDifference(step: 1e-1, noise: noise) { t in Self.dot(rotate(Self.along(x, x, t), inverse: false), y) }
        Self.check("RoPE", analytic: Self.dot(riy, x), gradient: riy, direction: x, length: 2, stages: 1, difference: fd)
    }

    /// Every activation's derivative, and SwiGLU's backward, at points away from relu's kink.
    @Test(arguments: [ActivationFunction.geluTanh, .geluErf, .relu, .silu])
    func activationDerivativesMatchDifferences(f: ActivationFunction) {
        var rng = SplitMix(seed: 51)
        let x = Self.random(64, &rng, scale: 4).map { abs($0) < 0.1 ? $0 + 0.2 : $0 }
        let c = Self.random(64, &rng), v = Self.random(64, &rng)
        func forward(_ x: [Float]) -> [Float] { var y = x; Activations.apply(f, &y); return y }
        let dx = Activations.backward(f, c, input: x)
        // One evaluation: a few roundings per value (no long sums).
        let noise = ArithmeticTolerance.weightedSumNoise(weights: c, scale: ArithmeticTolerance.largestMagnitude(forward(x)), length: 8, stages: 1)
        let fd = ArithmeticTolerance.centralDifference(step: 2e-2, noise: noise) { t in Self.dot(c, forward(Self.along(x, v, t))) }
        Self.check("\(f)", analytic: Self.dot(dx, v), gradient: dx, direction: v, length: 8, stages: 1, difference: fd)
        // The traced forward saves the transcendental part: the same values, and the backward from the
        // saved part is the backward that recomputes it, bit for bit.
        var y = x
        let part = Activations.apply(f, &y, saving: true)
        #expect(y.map(\.bitPattern) == forward(x).map(\.bitPattern))
        #expect((part != nil) == (f == .geluTanh || f == .silu))
        #expect(Activations.backward(f, c, input: x, part: part).map(\.bitPattern) == dx.map(\.bitPattern))
        let gated = Activations.gated(f, gate: x, up: v, saving: true)
        #expect(Activations.gatedBackward(f, c, gate: x, up: v, part: gated.part).gate.map(\.bitPattern)
                == Activations.gatedBackward(f, c, gate: x, up: v).gate.map(\.bitPattern))
    }

    @Test func swiGLUBackwardMatchesDifferences() {
        var rng = SplitMix(seed: 61)
        let gate = Self.random(64, &rng, scale: 3), up = Self.random(64, &rng, scale: 2)
        let c = Self.random(64, &rng), v = Self.random(128, &rng)
        let (dg, du) = Activations.gatedBackward(.silu, c, gate: gate, up: up)
        let y = Activations.gated(.silu, gate: gate, up: up).key
        let noise = ArithmeticTolerance.weightedSumNoise(weights: c, scale: ArithmeticTolerance.largestMagnitude(y), length: 8, stages: 1)
        let fd = ArithmeticTolerance.centralDifference(step: 0.1, noise: noise) { t in
            let x = Self.along(gate + up, v, t)
            return Self.dot(c, Activations.gated(.silu, gate: Array(x[0..<64]), up: Array(x[64...])).key)
        }
        Self.check("SwiGLU", analytic: Self.dot(dg + du, v), gradient: dg + du, direction: v, length: 8, stages: 1, difference: fd)
    }
}
