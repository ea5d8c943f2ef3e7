import Foundation

/// Rotary position embedding in the rotate-half layout (pairs (i, i + n/2) of the first n
/// dimensions of each head), as transformers applies it.
package struct RopeTable: Sendable {
    /// Rotated pairs per head.
    package let half: Int
    /// cos and sin of each row's angles, [rows × half].
    package let cos: [Float]
    package let sin: [Float]

    /// Angles pos·inv_freq in f32 (as transformers multiplies them) for the position of every row.
    package init(positions: [Int], rope: RopeConfig) {
        let inv = rope.inverseFrequencies()
        half = inv.count
        var c = [Float](repeating: 0, count: positions.count * half)
        var s = c
        for (r, p) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(p) * inv[i]
                c[r * half + i] = Float(Foundation.cos(Double(angle)))
                s[r * half + i] = Float(Foundation.sin(Double(angle)))
            }
        }
        cos = c
        sin = s
    }

    /// Rotates every head of every row of `x` (rows × ld, heads of `headDim` from column 0).
    /// `inverse` rotates by −θ (the transpose, for backward passes).
    package func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, ld: Int, heads: Int, headDim: Int, inverse: Bool = false) {
        cos.withUnsafeBufferPointer { cp in
            sin.withUnsafeBufferPointer { sp in
                for r in 0..<rows {
                    let c = cp.baseAddress! + r * half, s = sp.baseAddress! + r * half
                    for h in 0..<heads {
                        let v = x + r * ld + h * headDim
                        if inverse {
                            for i in 0..<half {
                                let a = v[i], b = v[i + half]
                                v[i] = a * c[i] + b * s[i]
                                v[i + half] = b * c[i] - a * s[i]
                            }
                        } else {
                            for i in 0..<half {
                                let a = v[i], b = v[i + half]
                                v[i] = a * c[i] - b * s[i]
                                v[i + half] = b * c[i] + a * s[i]
                            }
                        }
                    }
                }
            }
        }
    }
}
