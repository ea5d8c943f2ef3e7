/// ggml Q4_0: blocks of 32 values as an f16 scale `d` and 16 bytes of 4-bit codes; x ≈ d·(q − 8).
/// Value j sits in the low nibble of byte j, value 16 + j in its high nibble.
///
/// Quantization follows `quantize_row_q4_0_ref` / gguf-py: d = (signed value of largest magnitude)/−8,
/// q = min(15, trunc(x/d + 8.5)).
package enum Q4_0: SingleBlockEncoder {
    package static let type = GGMLType.q4_0

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = QuantMath.loadHalf(block, 0)
        let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            out[j] = Float(Int(qs[j] & 0x0f) - 8) * d
            out[j + 16] = Float(Int(qs[j] >> 4) - 8) * d
        }
    }

    package static func encodeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let max = LegacyQuant.signedAbsMax(x)
        let d = max / -8
        let id: Float = d != 0 ? 1 / d : 0
        let fits = QuantMath.fitsHalf(d)
        QuantMath.storeHalf(d, block, 0)
        for j in 0..<16 {
            let lo = Swift.min(15, QuantMath.truncToByte(x[j] * id + 8.5))
            let hi = Swift.min(15, QuantMath.truncToByte(x[j + 16] * id + 8.5))
            block.storeBytes(of: lo | (hi << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
        return fits
    }
}

/// Pieces shared by the Q4_0/Q4_1/Q5_0/Q5_1 codecs.
package enum LegacyQuant {
    /// The first value of largest magnitude in a block of 32, with its sign (NumPy's `argmax`
    /// semantics: an all-zero block gives its first element, so a leading −0 stays −0).
    @inline(__always)
    package static func signedAbsMax(_ x: UnsafePointer<Float>) -> Float {
        var amax: Float = x[0].magnitude
        var max: Float = x[0]
        for j in 1..<32 where x[j].magnitude > amax {
            amax = x[j].magnitude
            max = x[j]
        }
        return max
    }

    /// Minimum and maximum of a block of 32. Among equal values (only ±0 can differ) the last one
    /// wins, which is what NumPy's `min`/`max` reductions give, so the signs of zero scales match.
    @inline(__always)
    package static func minMax(_ x: UnsafePointer<Float>) -> (min: Float, max: Float) {
        var lo = x[0], hi = x[0]
        for j in 1..<32 {
            if x[j] <= lo { lo = x[j] }
            if x[j] >= hi { hi = x[j] }
        }
        return (lo, hi)
    }
}
