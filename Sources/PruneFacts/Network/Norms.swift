import Foundation

/// LayerNorm (with bias) and RMSNorm (without) over rows of width d, forward and backward with the
/// scale frozen. The forward returns the per-row inverse standard deviation the backward needs.
public enum Norms {
    /// y = norm(x) · w (+ b); returns (y, x̂, rstd) — x̂ is the normalised input.
    public static func forward(_ x: [Float], rows t: Int, width d: Int, _ p: NormParameters, epsilon: Float)
        -> (y: [Float], normalized: [Float], rstd: [Float]) {
        var y = [Float](repeating: 0, count: t * d)
        var xh = [Float](repeating: 0, count: t * d)
        var rs = [Float](repeating: 0, count: t)
        let layer = p.bias != nil
        for r in 0..<t {
            let o = r * d
            var mean: Float = 0
            if layer {
                for j in 0..<d { mean += x[o + j] }
                mean /= Float(d)
            }
            var v: Float = 0
            for j in 0..<d { let c = x[o + j] - mean; v += c * c }
            v /= Float(d)
            let s = 1 / (v + epsilon).squareRoot()
            rs[r] = s
            for j in 0..<d {
                let h = (x[o + j] - mean) * s
                xh[o + j] = h
                y[o + j] = h * p.weight[j] + (p.bias?[j] ?? 0)
            }
        }
        return (y, xh, rs)
    }

    /// dx from dy, with x̂ and rstd from the forward.
    public static func backward(_ dy: [Float], normalized xh: [Float], rstd: [Float], rows t: Int, width d: Int,
                                _ p: NormParameters) -> [Float] {
        var dx = [Float](repeating: 0, count: t * d)
        let layer = p.bias != nil
        for r in 0..<t {
            let o = r * d
            var sumG: Float = 0, sumGX: Float = 0
            for j in 0..<d {
                let g = dy[o + j] * p.weight[j]
                sumG += g
                sumGX += g * xh[o + j]
            }
            let mg = layer ? sumG / Float(d) : 0
            let mgx = sumGX / Float(d)
            for j in 0..<d {
                let g = dy[o + j] * p.weight[j]
                dx[o + j] = rstd[r] * (g - mg - xh[o + j] * mgx)
            }
        }
        return dx
    }
}
