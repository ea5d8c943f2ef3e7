/// LayerNorm (GPT-2) and RMSNorm (Llama) over the rows of a matrix. Statistics are accumulated in
/// f64 and kept (per row) for a backward pass.
package enum Norms {
    package typealias Statistics = NormStatistics

    /// y = (x − mean)/√(var + ε)·w + b, row by row.
    package static func layerNorm(_ x: [Float], rows: Int, width d: Int, weights: NormWeights, epsilon: Float,
                                  into y: inout [Float]) -> Statistics {
        var stats = Statistics(mean: [Float](repeating: 0, count: rows), inverseDeviation: [Float](repeating: 0, count: rows))
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                weights.weight.withUnsafeBufferPointer { w in
                    let bias = weights.bias ?? [Float](repeating: 0, count: d)
                    bias.withUnsafeBufferPointer { b in
                        for r in 0..<rows {
                            let row = xp.baseAddress! + r * d
                            var sum = 0.0
                            for j in 0..<d { sum += Double(row[j]) }
                            let mean = sum / Double(d)
                            var sq = 0.0
                            for j in 0..<d { let t = Double(row[j]) - mean; sq += t * t }
                            let inv = 1 / (sq / Double(d) + Double(epsilon)).squareRoot()
                            let m = Float(mean), s = Float(inv)
                            stats.mean[r] = m
                            stats.inverseDeviation[r] = s
                            let out = yp.baseAddress! + r * d
                            for j in 0..<d { out[j] = (row[j] - m) * s * w[j] + b[j] }
                        }
                    }
                }
            }
        }
        return stats
    }

    /// y = x/√(mean(x²) + ε)·w, row by row (Llama's RMSNorm, computed as transformers does: the
    /// normalised value is rounded to f32 before the scale).
    package static func rmsNorm(_ x: [Float], rows: Int, width d: Int, weights: NormWeights, epsilon: Float,
                                into y: inout [Float]) -> Statistics {
        var stats = Statistics(mean: [Float](repeating: 0, count: rows), inverseDeviation: [Float](repeating: 0, count: rows))
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                weights.weight.withUnsafeBufferPointer { w in
                    for r in 0..<rows {
                        let row = xp.baseAddress! + r * d
                        var sq = 0.0
                        for j in 0..<d { sq += Double(row[j]) * Double(row[j]) }
                        let s = Float(1 / (sq / Double(d) + Double(epsilon)).squareRoot())
                        stats.inverseDeviation[r] = s
                        let out = yp.baseAddress! + r * d
                        for j in 0..<d { out[j] = w[j] * (row[j] * s) }
                    }
                }
            }
        }
        return stats
    }
    /// dx of `layerNorm` from dy (weights frozen), from its input `x` and the statistics it saved:
    /// with g = dy·w and x̂ = (x − mean)/σ, dx = (g − mean(g) − x̂·mean(g·x̂))/σ.
    package static func layerNormBackward(_ dy: [Float], input x: [Float], rows: Int, width d: Int, weights: NormWeights,
                                          statistics: Statistics) -> [Float] {
        backward(dy, input: x, rows: rows, width: d, weights: weights, statistics: statistics, centred: true)
    }

    /// dx of `rmsNorm` from dy (weights frozen): with g = dy·w and x̂ = x/rms, dx = (g − x̂·mean(g·x̂))/rms.
    package static func rmsNormBackward(_ dy: [Float], input x: [Float], rows: Int, width d: Int, weights: NormWeights,
                                        statistics: Statistics) -> [Float] {
        backward(dy, input: x, rows: rows, width: d, weights: weights, statistics: statistics, centred: false)
    }

    /// Both norms' backward: `centred` subtracts the mean (LayerNorm). Sums in f64, as the forward's.
    private static func backward(_ dy: [Float], input x: [Float], rows: Int, width d: Int, weights: NormWeights,
                                 statistics: Statistics, centred: Bool) -> [Float] {
        var dx = [Float](repeating: 0, count: rows * d)
        dy.withUnsafeBufferPointer { gp in
            x.withUnsafeBufferPointer { xp in
                weights.weight.withUnsafeBufferPointer { w in
                    dx.withUnsafeMutableBufferPointer { op in
                        for r in 0..<rows {
                            let g = gp.baseAddress! + r * d, row = xp.baseAddress! + r * d, out = op.baseAddress! + r * d
                            let mean = statistics.mean[r], s = statistics.inverseDeviation[r]
                            var sumG = 0.0, sumGX = 0.0
                            for j in 0..<d {
                                let gj = Double(g[j] * w[j])
                                sumG += gj
                                sumGX += gj * Double((row[j] - mean) * s)
                            }
                            let mg = centred ? Float(sumG / Double(d)) : 0, mgx = Float(sumGX / Double(d))
                            for j in 0..<d { out[j] = s * (g[j] * w[j] - mg - (row[j] - mean) * s * mgx) }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// What a backward pass through a norm needs: per row, the mean (LayerNorm; 0 for RMSNorm) and
/// 1/σ (1/rms for RMSNorm).
public struct NormStatistics: Sendable, Equatable {
    public var mean: [Float]
    public var inverseDeviation: [Float]
}
