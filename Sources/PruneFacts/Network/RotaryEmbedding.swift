import Foundation

/// Hugging Face's rotate-half RoPE on rows of heads: pairs (i, i + r/2) of the first r dimensions of
/// each head rotate by position · invFreq[i]. The backward is the inverse rotation.
public struct RotaryEmbedding: Sendable {
    public let inverseFrequencies: [Float]
    public let headDim: Int

    public init(inverseFrequencies: [Float], headDim: Int) {
        self.inverseFrequencies = inverseFrequencies
        self.headDim = headDim
    }

    /// Rotates `x` [t, heads·headDim] in place (positions 0..<t); `inverse` rotates back.
    public func apply(_ x: inout [Float], rows t: Int, heads: Int, inverse: Bool = false) {
        apply(&x, segments: [t], heads: heads, inverse: inverse)
    }

    /// The same on packed sequences: rows of consecutive segments, positions restarting at 0 in each.
    public func apply(_ x: inout [Float], segments: [Int], heads: Int, inverse: Bool = false) {
        let half = inverseFrequencies.count
        let w = heads * headDim
        var row = 0
        for t in segments {
          for p in 0..<t {
            for i in 0..<half {
                // torch: freqs = position · inv_freq in f32, then cos/sin.
                let angle = Float(p) * inverseFrequencies[i]
                let c = cosf(angle), s = inverse ? -sinf(angle) : sinf(angle)
                for h in 0..<heads {
                    let o = (row + p) * w + h * headDim
                    let a = x[o + i], b = x[o + i + half]
                    x[o + i] = a * c - b * s
                    x[o + i + half] = b * c + a * s
                }
            }
          }
          row += t
        }
    }
}
