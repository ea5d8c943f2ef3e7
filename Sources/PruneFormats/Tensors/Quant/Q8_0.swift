/// ggml Q8_0: blocks of 32 values as an f16 scale `d` and 32 signed bytes; x ≈ d·q.
///
/// Quantization follows `quantize_row_q8_0_ref` (d = amax/127, q = round-half-away(x/d)), which is
/// what gguf-py's `Q8_0.quantize_blocks` reproduces bit for bit.
package enum Q8_0: SingleBlockEncoder {
    package static let type = GGMLType.q8_0

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = QuantMath.loadHalf(block, 0)
        let qs = (block + 2).assumingMemoryBound(to: Int8.self)
        for j in 0..<32 {
            out[j] = Float(qs[j]) * d
        }
    }

    package static func encodeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        var amax: Float = 0
        for j in 0..<32 { amax = Swift.max(amax, x[j].magnitude) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        let fits = QuantMath.fitsHalf(d)
        QuantMath.storeHalf(d, block, 0)
        for j in 0..<32 {
            block.storeBytes(of: roundHalfAway(x[j] * id), toByteOffset: 2 + j, as: Int8.self)
        }
        return fits
    }

    /// C's `roundf` (half away from zero) into int8, without a libm call: in double precision,
    /// v ± 0.5 is exact for |v| < 2^7, so truncating it rounds half away from zero exactly.
    /// Values are within ±127.5 for finite scales; NaN and out-of-range values give 0, like NumPy
    /// on x86.
    @inline(__always)
    package static func roundHalfAway(_ v: Float) -> Int8 {
        guard v > -128.5, v < 127.5 else { return 0 }
        let d = Double(v)
        return Int8(truncatingIfNeeded: Int32(d + Double(signOf: d, magnitudeOf: 0.5)))
    }
}
