/// IEEE binary16 and bfloat16 conversions on bit patterns.
///
/// f32 → f16 rounds to nearest even, overflows to ±inf, and keeps NaN payloads the way NumPy's
/// `astype(np.float16)` does (top mantissa bits kept, never turned into an infinity), so the bytes
/// match gguf-py. f16 → f32 is exact (payloads kept). bf16 follows ggml's `ggml_compute_fp32_to_bf16`
/// (round to nearest even; NaN forced quiet, sign and top payload kept).
package enum HalfFloat {
    @inline(__always)
    package static func toFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let magnitude = UInt32(h & 0x7fff)
        if magnitude >= 0x7c00 {
            // inf / NaN: exponent all ones, payload shifted into place.
            return Float(bitPattern: sign | 0x7f80_0000 | ((magnitude & 0x3ff) << 13))
        }
        // Normal and subnormal halves: place the 15 bits under an f32 exponent of 0 and rescale
        // by 2^112 (exact: the product is a normal f32 and the factor a power of two).
        let scaled = Float(bitPattern: magnitude << 13) * 0x1p112
        return Float(bitPattern: sign | scaled.bitPattern)
    }

    @inline(__always)
    package static func fromFloat(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits & 0x8000_0000) >> 16)
        let exponent = bits & 0x7f80_0000
        if exponent >= 0x4780_0000 {
            // |f| >= 65536, inf or NaN.
            if exponent == 0x7f80_0000 {
                let significand = bits & 0x007f_ffff
                if significand != 0 {
                    var nan = UInt16(truncatingIfNeeded: 0x7c00 + (significand >> 13))
                    if nan == 0x7c00 { nan += 1 }
                    return sign | nan
                }
            }
            return sign | 0x7c00
        }
        if exponent <= 0x3800_0000 {
            // Subnormal half or underflow to zero.
            if exponent < 0x3300_0000 { return sign }
            let e = exponent >> 23
            var significand = (0x0080_0000 + (bits & 0x007f_ffff)) >> (113 - e)
            if (significand & 0x3fff) != 0x1000 || (bits & 0x7ff) != 0 {
                significand += 0x1000
            }
            return sign | UInt16(truncatingIfNeeded: significand >> 13)
        }
        let halfExponent = UInt16(truncatingIfNeeded: (exponent - 0x3800_0000) >> 13)
        var significand = bits & 0x007f_ffff
        if (significand & 0x3fff) != 0x1000 {
            significand += 0x1000
        }
        // A carry out of the significand bumps the exponent (up to inf): the right result.
        return sign | (UInt16(truncatingIfNeeded: significand >> 13) &+ halfExponent)
    }

    @inline(__always)
    package static func bfloat16ToFloat(_ h: UInt16) -> Float {
        Float(bitPattern: UInt32(h) << 16)
    }

    @inline(__always)
    package static func bfloat16FromFloat(_ f: Float) -> UInt16 {
        var n = f.bitPattern
        if (n & 0x7fff_ffff) > 0x7f80_0000 {
            n = (n & 0xffff_0000) | 0x0040_0000
        }
        let rounded = (UInt64(n) + UInt64(0x7fff + ((n >> 16) & 1))) >> 16
        return UInt16(truncatingIfNeeded: rounded)
    }
}
