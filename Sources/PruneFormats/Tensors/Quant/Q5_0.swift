/// ggml Q5_0: blocks of 32 values as f16 `d`, a 32-bit little-endian mask of fifth bits and
/// 16 bytes of low nibbles; x ≈ d·(q − 16). Bit j of the mask is the fifth bit of value j.
///
/// Quantization follows `quantize_row_q5_0_ref` / gguf-py: d = (signed value of largest
/// magnitude)/−16, q = min(31, trunc(x/d + 16.5)).
package enum Q5_0: SingleBlockEncoder {
    package static let type = GGMLType.q5_0

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = QuantMath.loadHalf(block, 0)
        let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian
        let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let h0 = Int((qh >> UInt32(j)) & 1) << 4
            let h1 = Int((qh >> UInt32(j + 16)) & 1) << 4
            out[j] = Float((Int(qs[j] & 0x0f) | h0) - 16) * d
            out[j + 16] = Float((Int(qs[j] >> 4) | h1) - 16) * d
        }
    }

    package static func encodeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        let max = LegacyQuant.signedAbsMax(x)
        let d = max / -16
        let id: Float = d != 0 ? 1 / d : 0
        let fits = QuantMath.fitsHalf(d)
        QuantMath.storeHalf(d, block, 0)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let q0 = Swift.min(31, QuantMath.truncToByte(x[j] * id + 16.5))
            let q1 = Swift.min(31, QuantMath.truncToByte(x[j + 16] * id + 16.5))
            block.storeBytes(of: (q0 & 0x0f) | (q1 << 4), toByteOffset: 6 + j, as: UInt8.self)
            qh |= UInt32(q0 >> 4) << UInt32(j)
            qh |= UInt32(q1 >> 4) << UInt32(j + 16)
        }
        block.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        return fits
    }
}
