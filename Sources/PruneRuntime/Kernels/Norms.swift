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
}

/// What a backward pass through a norm needs: per row, the mean (LayerNorm; 0 for RMSNorm) and
/// 1/σ (1/rms for RMSNorm).
public struct NormStatistics: Sendable, Equatable {
    public var mean: [Float]
    public var inverseDeviation: [Float]
}
