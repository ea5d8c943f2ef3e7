/// ggml Q4_K: super-blocks of 256 values = f16 `d`, f16 `dmin`, 12 bytes of eight 6-bit
/// (scale, min) pairs and 128 bytes of 4-bit codes; sub-block j (32 values) decodes as
/// d·sc_j·q − dmin·m_j. Each 32-byte group of codes holds two sub-blocks (low, then high nibbles).
///
/// Quantization follows the reference algorithm (`quantize_row_q4_K_ref`): a weighted affine fit
/// per sub-block, 6-bit quantization of the scales and mins, then requantization with them.
package enum Q4_K: BlockCodec {
    package static let type = GGMLType.q4_K

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = QuantMath.loadHalf(block, 0)
        let dmin = QuantMath.loadHalf(block, 2)
        let scales = block + 4
        let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
        for chunk in 0..<4 {
            let (sc1, m1) = KScales.get(2 * chunk, scales)
            let (sc2, m2) = KScales.get(2 * chunk + 1, scales)
            let d1 = d * Float(sc1), min1 = dmin * Float(m1)
            let d2 = d * Float(sc2), min2 = dmin * Float(m2)
            let q = qs + 32 * chunk
            let y = out + 64 * chunk
            for l in 0..<32 {
                y[l] = d1 * Float(q[l] & 0x0f) - min1
                y[l + 32] = d2 * Float(q[l] >> 4) - min2
            }
        }
    }

    package static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) -> Int? {
        KAffineQuantizer.encode(src, into: dst, blocks: blocks, format: .q4K)
    }
}

/// The shared encoder of Q4_K and Q5_K (same scale layout, 4 or 5 bits per value).
package enum KAffineQuantizer {
    package enum Format {
        case q4K, q5K
        package var nmax: Int { self == .q4K ? 15 : 31 }
        package var bytesPerBlock: Int { self == .q4K ? 144 : 176 }
        package var rmin: Float { self == .q4K ? -1 : -0.5 }
        package var steps: Int { self == .q4K ? 20 : 15 }
    }

    package static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int, format: Format) -> Int? {
        let levels = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        let search = KQuantSearch8.Scratch()
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: 8)
        let mins = UnsafeMutablePointer<Float>.allocate(capacity: 8)
        let ls = UnsafeMutablePointer<UInt8>.allocate(capacity: 8)
        let lm = UnsafeMutablePointer<UInt8>.allocate(capacity: 8)
        defer {
            levels.deallocate()
            scales.deallocate(); mins.deallocate(); ls.deallocate(); lm.deallocate()
        }
        let nmax = format.nmax
        var failed: Int?
        for b in 0..<blocks {
            let x = src + 256 * b
            let block = dst + format.bytesPerBlock * b
            var maxScale: Float = 0
            var maxMin: Float = 0
            let fit = KQuantSearch8.affine(nmax: nmax, x: x, levels: levels, rmin: format.rmin, rdelta: 0.1, steps: format.steps, scratch: search)
            for j in 0..<8 {
                scales[j] = fit.scales[j]
                mins[j] = fit.mins[j]
                if scales[j] > maxScale { maxScale = scales[j] }
                if mins[j] > maxMin { maxMin = mins[j] }
            }
            let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
            let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
            for j in 0..<8 {
                ls[j] = UInt8(Swift.max(0, Swift.min(63, QuantMath.nearestInt(invScale * scales[j]))))
                lm[j] = UInt8(Swift.max(0, Swift.min(63, QuantMath.nearestInt(invMin * mins[j]))))
            }
            let d = maxScale / 63
            let dmin = maxMin / 63
            if failed == nil && !(QuantMath.fitsHalf(d) && QuantMath.fitsHalf(dmin)
                                  && QuantMath.allFinite(scales, 8) && QuantMath.allFinite(mins, 8)) { failed = b }
            QuantMath.storeHalf(d, block, 0)
            QuantMath.storeHalf(dmin, block, 2)
            KScales.pack(scales: ls, mins: lm, into: block + 4)
            let dq = QuantMath.loadHalf(block, 0)
            let dminq = QuantMath.loadHalf(block, 2)
            for j in 0..<8 {
                let (sc, m) = KScales.get(j, block + 4)
                let dj = dq * Float(sc)
                if dj == 0 { continue }
                let dm = dminq * Float(m)
                for i in 0..<32 {
                    let l = QuantMath.nearestInt((x[32 * j + i] + dm) / dj)
                    levels[32 * j + i] = UInt8(Swift.max(0, Swift.min(Int32(nmax), l)))
                }
            }
            switch format {
            case .q4K:
                let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
                for chunk in 0..<4 {
                    for l in 0..<32 {
                        qs[32 * chunk + l] = levels[64 * chunk + l] | (levels[64 * chunk + l + 32] << 4)
                    }
                }
            case .q5K:
                let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
                let ql = (block + 48).assumingMemoryBound(to: UInt8.self)
                for j in 0..<32 { qh[j] = 0 }
                for chunk in 0..<4 {
                    let m1 = UInt8(1) << UInt8(2 * chunk)
                    let m2 = UInt8(2) << UInt8(2 * chunk)
                    for j in 0..<32 {
                        var l1 = levels[64 * chunk + j]
                        if l1 > 15 { l1 -= 16; qh[j] |= m1 }
                        var l2 = levels[64 * chunk + j + 32]
                        if l2 > 15 { l2 -= 16; qh[j] |= m2 }
                        ql[32 * chunk + j] = l1 | (l2 << 4)
                    }
                }
            }
        }
        return failed
    }
}
