/// ggml Q5_K: super-blocks of 256 values = f16 `d`, f16 `dmin`, 12 bytes of 6-bit (scale, min)
/// pairs, 32 bytes of fifth bits and 128 bytes of low nibbles. Value i's fifth bit is bit i/32 of
/// byte i%32 of the high-bit array. Decodes as d·sc·q − dmin·m per 32-value sub-block.
///
/// Quantization follows `quantize_row_q5_K_ref` (see `KAffineQuantizer`).
package enum Q5_K: BlockCodec {
    package static let type = GGMLType.q5_K

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = QuantMath.loadHalf(block, 0)
        let dmin = QuantMath.loadHalf(block, 2)
        let scales = block + 4
        let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
        let ql = (block + 48).assumingMemoryBound(to: UInt8.self)
        for chunk in 0..<4 {
            let (sc1, m1) = KScales.get(2 * chunk, scales)
            let (sc2, m2) = KScales.get(2 * chunk + 1, scales)
            let d1 = d * Float(sc1), min1 = dmin * Float(m1)
            let d2 = d * Float(sc2), min2 = dmin * Float(m2)
            let u1 = UInt8(1) << UInt8(2 * chunk)
            let u2 = UInt8(2) << UInt8(2 * chunk)
            let q = ql + 32 * chunk
            let y = out + 64 * chunk
            for l in 0..<32 {
                let h1: UInt8 = qh[l] & u1 != 0 ? 16 : 0
                let h2: UInt8 = qh[l] & u2 != 0 ? 16 : 0
                y[l] = d1 * Float((q[l] & 0x0f) + h1) - min1
                y[l + 32] = d2 * Float((q[l] >> 4) + h2) - min2
            }
        }
    }

    package static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) -> Int? {
        KAffineQuantizer.encode(src, into: dst, blocks: blocks, format: .q5K)
    }
}
