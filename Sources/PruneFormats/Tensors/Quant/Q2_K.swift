/// ggml Q2_K: super-blocks of 256 values = 16 scale bytes (low nibble scale, high nibble min),
/// 64 bytes of 2-bit codes, f16 `d` and f16 `dmin`; each 16 values decode as
/// d·sc·q − dmin·m. Byte l of each 32-byte group holds values l, l+32, l+64, l+96 of its 128.
///
/// Quantization follows `quantize_row_q2_K_ref`: an affine fit per 16 values minimising the
/// weighted absolute error (weights |x|), 4-bit scales and mins, then requantization.
package enum Q2_K: BlockCodec {
    package static let type = GGMLType.q2_K

    package static func decodeBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let scales = block.assumingMemoryBound(to: UInt8.self)
        let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
        let d = QuantMath.loadHalf(block, 80)
        let dmin = QuantMath.loadHalf(block, 82)
        var y = out
        var s = 0
        for half in 0..<2 {
            let q = qs + 32 * half
            for shift in stride(from: 0, to: 8, by: 2) {
                for part in 0..<2 {
                    let sc = scales[s]
                    s += 1
                    let dl = d * Float(sc & 0x0f)
                    let ml = dmin * Float(sc >> 4)
                    for l in 0..<16 {
                        y[l] = dl * Float((q[16 * part + l] >> UInt8(shift)) & 3) - ml
                    }
                    y += 16
                }
            }
        }
    }

    package static func encode(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) -> Int? {
        let levels = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        let mins = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        defer {
            levels.deallocate(); scratch.deallocate(); weights.deallocate()
            scales.deallocate(); mins.deallocate()
        }
        let q4scale: Float = 15
        var failed: Int?
        for b in 0..<blocks {
            let x = src + 256 * b
            let block = dst + bytesPerBlock * b
            let sc = block.assumingMemoryBound(to: UInt8.self)
            var maxScale: Float = 0
            var maxMin: Float = 0
            for j in 0..<16 {
                for l in 0..<16 { weights[l] = x[16 * j + l].magnitude }
                let fit = KQuantSearch.affine(
                    n: 16, nmax: 3, x: x + 16 * j, weights: weights, levels: levels + 16 * j, scratch: scratch,
                    rmin: -0.5, rdelta: 0.1, steps: 15, useMad: true)
                scales[j] = fit.scale
                mins[j] = fit.theMin
                if fit.scale > maxScale { maxScale = fit.scale }
                if fit.theMin > maxMin { maxMin = fit.theMin }
            }
            var d: Float = 0
            if maxScale > 0 {
                let iscale = q4scale / maxScale
                for j in 0..<16 {
                    sc[j] = UInt8(Swift.max(0, Swift.min(15, QuantMath.nearestInt(iscale * scales[j]))))
                }
                d = maxScale / q4scale
            } else {
                for j in 0..<16 { sc[j] = 0 }
            }
            var dmin: Float = 0
            if maxMin > 0 {
                let iscale = q4scale / maxMin
                for j in 0..<16 {
                    sc[j] |= UInt8(Swift.max(0, Swift.min(15, QuantMath.nearestInt(iscale * mins[j])))) << 4
                }
                dmin = maxMin / q4scale
            }
            if failed == nil && !(QuantMath.fitsHalf(d) && QuantMath.fitsHalf(dmin)
                                  && QuantMath.allFinite(scales, 16) && QuantMath.allFinite(mins, 16)) { failed = b }
            QuantMath.storeHalf(d, block, 80)
            QuantMath.storeHalf(dmin, block, 82)
            let dq = QuantMath.loadHalf(block, 80)
            let dminq = QuantMath.loadHalf(block, 82)
            for j in 0..<16 {
                let dj = dq * Float(sc[j] & 0x0f)
                if dj == 0 { continue }
                let dm = dminq * Float(sc[j] >> 4)
                for i in 0..<16 {
                    let l = QuantMath.nearestInt((x[16 * j + i] + dm) / dj)
                    levels[16 * j + i] = UInt8(Swift.max(0, Swift.min(3, l)))
                }
            }
            TwoBitPacking.pack(levels, into: block + 16)
        }
        return failed
    }
}

/// The 2-bit code layout shared by Q2_K and Q3_K: for each 128 values, byte l (0..<32) holds
/// values l, l+32, l+64, l+96 in bits 0-1, 2-3, 4-5, 6-7.
package enum TwoBitPacking {
    @inline(__always)
    package static func pack(_ levels: UnsafePointer<UInt8>, into q: UnsafeMutableRawPointer) {
        let qs = q.assumingMemoryBound(to: UInt8.self)
        for half in 0..<2 {
            let base = 128 * half
            for l in 0..<32 {
                qs[32 * half + l] = levels[base + l] | (levels[base + l + 32] << 2)
                    | (levels[base + l + 64] << 4) | (levels[base + l + 96] << 6)
            }
        }
    }
}
