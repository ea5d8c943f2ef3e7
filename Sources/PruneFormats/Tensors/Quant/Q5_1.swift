/// ggml Q5_1: blocks of 32 values as f16 `d`, f16 `m`, a 32-bit mask of fifth bits and 16 bytes of
/// low nibbles; x ≈ d·q + m.
///
/// Quantization follows gguf-py's `Q5_1.quantize_blocks` (= `quantize_row_q5_1_ref` on finite input):
/// d = (max − min)/31, q = min(31, trunc((x − min)/d + 0.5)).
package enum Q5_1: SingleBlockEncoder {
    package static let type = GGMLType.q5_1

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = QuantMath.loadHalf(block, 0)
        let m = QuantMath.loadHalf(block, 2)
        let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
        let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let h0 = (qh >> UInt32(j)) & 1
            let h1 = (qh >> UInt32(j + 16)) & 1
            out[j] = Float(UInt32(qs[j] & 0x0f) | (h0 << 4)) * d + m
            out[j + 16] = Float(UInt32(qs[j] >> 4) | (h1 << 4)) * d + m
        }
    }

    package static func encodeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let (min, max) = LegacyQuant.minMax(x)
        let d = (max - min) / 31
        let id: Float = d != 0 ? 1 / d : 0
        let fits = (QuantMath.fitsHalf(d) && QuantMath.fitsHalf(min))
        QuantMath.storeHalf(d, block, 0)
        QuantMath.storeHalf(min, block, 2)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let q0 = Swift.min(31, QuantMath.truncToByte((x[j] - min) * id + 0.5))
            let q1 = Swift.min(31, QuantMath.truncToByte((x[j + 16] - min) * id + 0.5))
            block.storeBytes(of: (q0 & 0x0f) | (q1 << 4), toByteOffset: 8 + j, as: UInt8.self)
            qh |= UInt32(q0 >> 4) << UInt32(j)
            qh |= UInt32(q1 >> 4) << UInt32(j + 16)
        }
        block.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
        return fits
    }
}
