/// ggml Q4_1: blocks of 32 values as f16 `d`, f16 `m` and 16 bytes of 4-bit codes; x ≈ d·q + m.
///
/// Quantization follows `quantize_row_q4_1_ref` / gguf-py: d = (max − min)/15, m = min,
/// q = min(15, trunc((x − min)/d + 0.5)).
package enum Q4_1: SingleBlockEncoder {
    package static let type = GGMLType.q4_1

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = QuantMath.loadHalf(block, 0)
        let m = QuantMath.loadHalf(block, 2)
        let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            out[j] = Float(qs[j] & 0x0f) * d + m
            out[j + 16] = Float(qs[j] >> 4) * d + m
        }
    }

    package static func encodeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let (min, max) = LegacyQuant.minMax(x)
        let d = (max - min) / 15
        let id: Float = d != 0 ? 1 / d : 0
        let fits = (QuantMath.fitsHalf(d) && QuantMath.fitsHalf(min))
        QuantMath.storeHalf(d, block, 0)
        QuantMath.storeHalf(min, block, 2)
        for j in 0..<16 {
            let lo = Swift.min(15, QuantMath.truncToByte((x[j] - min) * id + 0.5))
            let hi = Swift.min(15, QuantMath.truncToByte((x[j + 16] - min) * id + 0.5))
            block.storeBytes(of: lo | (hi << 4), toByteOffset: 4 + j, as: UInt8.self)
        }
        return fits
    }
}
